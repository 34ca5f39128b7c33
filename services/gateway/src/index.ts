export { buildGateway, type GatewayOptions } from './gateway.js';
export { startGateway, type RunningGateway, type StartGatewayOptions } from './start.js';
export { safeEqual } from './auth.js';
export { openApiDocument } from './openapi.js';
export { gatewayService } from './definition.js';
export {
  GatewayOptionsSchema,
  gatewayOptionsFromEnv,
  resolveGatewayOptions,
  type GatewayServiceOptions,
} from './options.js';
