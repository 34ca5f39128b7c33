export { startEmulator, type Emulator } from './server.js';
export type { EmulatorOptions } from './options.js';
export type { Clock, Timer } from './clock.js';
export { FaultsSchema, FaultsPatch, JobFailureKind, MaliciousExportKind, type Faults } from './faults.js';
export type { StateSummary } from './control.routes.js';
export { readImageHeader, type ImageHeader } from './image-header.js';
export type { ResponseShape } from './response-shape.js';
export type { LoggedRequest } from './request-log.js';
