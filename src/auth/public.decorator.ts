import { applyDecorators, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';

export const IS_PUBLIC = 'auth:isPublic';

/**
 * Marks a route as reachable without a bearer key (health probes, docs): for the guard, and in the
 * Fastify route's config for the hook that authenticates before a body is read.
 */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), RouteConfig({ public: true }));
