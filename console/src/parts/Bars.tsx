/** A horizontal bar chart in SVG, with the figures as text for screen readers and for print. */
export function Bars({ title, bars }: { title: string; bars: { label: string; value: number }[] }) {
  const top = Math.max(1, ...bars.map((bar) => bar.value));
  const row = 26;
  return (
    <figure className="bars">
      <svg width="520" height={bars.length * row + 8} role="img" aria-label={`${title}: ${bars.map((b) => `${b.label} ${b.value}`).join(", ")}`}>
        {bars.map((bar, index) => (
          <g key={bar.label} transform={`translate(0, ${index * row + 4})`}>
            <text x="0" y="15" fontSize="13" fill="#1b1b1f">
              {bar.label}
            </text>
            <rect x="150" y="2" height="18" width={Math.max(2, (bar.value / top) * 300)} fill="#0b57d0" />
            <text x={156 + (bar.value / top) * 300} y="15" fontSize="13" fill="#1b1b1f">
              {bar.value}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}
