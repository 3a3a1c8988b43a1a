// The recharts styling every chart of the lab shares: axis ticks and the tooltip box, in the
// theme's CSS variables (so light and dark follow the app).

/** `tick` of an XAxis / YAxis */
export const axisTick = { stroke: "var(--text-faint)", fontSize: 11 };

/** `contentStyle` of a Tooltip */
export const tooltipStyle = { background: "var(--bg-elevated)", border: "1px solid var(--border)", borderRadius: 8, fontSize: 12 };
