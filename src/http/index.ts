export { startHttpServer, type HttpServer, type HttpServerOptions } from './server.js';
