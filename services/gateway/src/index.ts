export { buildGateway, type GatewayOptions } from './gateway.js';
export { startGateway, type RunningGateway, type StartGatewayOptions } from './start.js';
export { safeEqual } from './auth.js';
