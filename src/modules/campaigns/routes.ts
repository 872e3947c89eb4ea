import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const campaignRoutes: FastifyPluginAsyncTypebox = async () => {};
