// Jest on Node 20 cannot require() ESM; @fastify/static (CJS, serving Swagger UI assets) requires
// content-disposition@3, which is ESM-only. Under Jest it gets the same function from the CJS v1 line.
const contentDisposition = require('content-disposition-cjs');
module.exports = { create: contentDisposition };
