/**
 * The page's own record of its first render, as performance marks (read by bench/dashboard.mjs, and by
 * anyone in the browser's performance panel): `resourcemonitor:drawn` once the first view's content is in
 * the document and its charts are drawn on their canvases, `resourcemonitor:frame` once the renderer's main
 * thread has produced the next frame (laid out, painted and committed it; rasterizing and display follow on
 * other threads). Times are from the navigation's start (the document's time origin).
 */
export const DRAWN_MARK = "resourcemonitor:drawn";
export const FRAME_MARK = "resourcemonitor:frame";

/** Marks the first render of this document (later refreshes and views are not marked). */
export function markFirstRender(): void {
  if (performance.getEntriesByName(DRAWN_MARK).length > 0) return;
  // uPlot draws in a microtask queued when each plot is made: one queued now runs after all of them.
  queueMicrotask(() => {
    performance.mark(DRAWN_MARK);
    // A frame's animation callbacks run before it is painted; a task posted from one runs after that frame.
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        performance.mark(FRAME_MARK);
        channel.port1.close();
      };
      channel.port2.postMessage(undefined);
    });
  });
}
