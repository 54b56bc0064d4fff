/** Forces a full GC when the process runs with --expose-gc; a no-op otherwise. */
export async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Heap + external and RSS now, in bytes, after settling. */
export async function memoryNow(): Promise<{ heapExternal: number; rss: number }> {
  await settle();
  const m = process.memoryUsage();
  return { heapExternal: m.heapUsed + m.external, rss: m.rss };
}
