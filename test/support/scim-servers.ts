/** HTTP servers that serve scim-sso's SCIM routes the three ways an app mounts them: Express, Koa and plain Node. */
import { createServer, type Server } from 'node:http';
import express from 'express';
import Koa from 'koa';
import type { ScimSso } from './sso.js';

export const SCIM_SERVERS: Record<'express' | 'koa' | 'node', (sso: ScimSso) => Server> = {
  express: (sso) => createServer(express().use(sso)),
  koa: (sso) => createServer(new Koa().use(sso.koa).callback()),
  node: (sso) =>
    createServer((req, res) => {
      void sso.handleScimRequest(req, res).then((served) => {
        if (!served) res.writeHead(404).end();
      });
    }),
};
