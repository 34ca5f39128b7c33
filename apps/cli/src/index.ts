export { runCli, buildProgram } from './program.js';
export type { CliIO } from './io.js';
export type { App } from './app.js';
export { ExitCode, CliError, exitCodeOf } from './exit-codes.js';
export {
  startWorkers,
  SERVICES,
  SERVICE_NAMES,
  servicesFor,
  type ServiceName,
  type StartWorkersOptions,
  type RunningWorkers,
} from './workers.js';
export { openServices, openStore, cliConfig, type ServicesHandle, type StoreHandle } from './cli-context.js';
export { followRun, readSummary, reportOutcome } from './follow.js';
export { stageLines, createRenderer, type StageLine, type Renderer } from './render/progress.js';
export { specFromFlags, type RunFlags } from './run-options.js';
export { generateSampleImages, encodeJpeg, type SampleSet } from './demo/sample-images.js';
export { runDemo, type DemoOptions, type DemoResult } from './demo/run-demo.js';
