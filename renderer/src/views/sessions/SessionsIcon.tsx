// The Sessions view's icon: a stack of recorded pages with a play mark (24×24, stroke = currentColor).
export const SessionsIcon = (p: { size?: number }) => (
    <svg width={p.size ?? 18} height={p.size ?? 18} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8"
        strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
        <path d="M7 4h11a2 2 0 0 1 2 2v11" opacity="0.55" />
        <rect x="4" y="7" width="13" height="13" rx="2" />
        <path d="m9 11 4 2.5L9 16z" />
    </svg>
);
