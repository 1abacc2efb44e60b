import { describe } from "../api";

export function ProblemNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {describe(error)}
    </p>
  );
}
