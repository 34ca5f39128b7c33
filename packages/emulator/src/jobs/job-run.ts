/** One launch of a job (a start, restart or resume): what its stages and tasks need from the engine. */
import type { Deps } from '../context.js';
import type { JobRecord } from '../store.js';

export interface JobRun {
  readonly deps: Deps;
  readonly job: JobRecord;
  /** False once the job was aborted, restarted or finished, or the engine closed: stop at the next item. */
  alive(): boolean;
  /** Waits on the emulator's clock; resolves at once when the engine closes. */
  sleep(ms: number): Promise<void>;
  /** Counts one processed item against the job's simulated machine time; returns the count so far. */
  countMachineItem(): number;
}
