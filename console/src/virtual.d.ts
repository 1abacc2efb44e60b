declare module "virtual:casewire-roles" {
  const roles: Record<string, string[]>;
  export default roles;
}
