// The page heading. Kept alone in this file because the hot-reload
// demonstration edits exactly this line.
export const title = "Codex example v1";
