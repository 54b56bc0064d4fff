/**
 * Entry of a fresh client process (`isolated.ts` forks this file): imports the scenario module
 * it is told, runs one exported measurement and sends its numbers back. Used where a result
 * must not inherit the parent's heap (`memory-100-h1`, `connections-held`).
 */
export interface ChildJob {
  /** Absolute file URL of the module holding the measurement. */
  readonly module: string;
  /** Name of the exported `(args) => Promise<Record<string, number>>`. */
  readonly fn: string;
  /** Its JSON argument. */
  readonly args: unknown;
}

type Measure = (args: unknown) => Promise<Record<string, number>>;

process.once('message', (job: ChildJob) => {
  import(job.module)
    .then((mod: Record<string, unknown>) => {
      const fn = mod[job.fn];
      if (typeof fn !== 'function') throw new Error(`${job.module} has no export ${job.fn}`);
      return (fn as Measure)(job.args);
    })
    .then(
      (values) => process.send?.({ values }),
      (error: unknown) => process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
});
process.on('disconnect', () => process.exit(0));
