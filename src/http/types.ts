/** The fastify types every part of the HTTP app shares (one instance type for HTTP/1.1 and TLS). */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawServerBase,
  RouteGenericInterface,
} from 'fastify';

export type InjectorApp = FastifyInstance<RawServerBase>;
export type AppRequest = FastifyRequest<RouteGenericInterface, RawServerBase>;
export type AppReply = FastifyReply<RouteGenericInterface, RawServerBase>;
