import { label } from "./format";

/** A `<select>`'s options for API codes, each shown as words (`handled_by_patrol` → "handled by patrol"). */
export function CodeOptions({ codes }: { codes: readonly string[] }) {
  return (
    <>
      {codes.map((code) => (
        <option key={code} value={code}>
          {label(code)}
        </option>
      ))}
    </>
  );
}
