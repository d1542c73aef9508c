import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'auth:isPublic';

/** Marks a route as reachable without a bearer key (health probes, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
