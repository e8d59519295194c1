/**
 * A server-side session store for koa-session. koa-session's default keeps the whole session in a cookie
 * the browser can read — which would expose the session user's groups and roles. Sessions here
 * stay in process memory with their expiry; use a shared store (Redis) when running several instances.
 */
export function memorySessionStore() {
  const sessions = new Map<string, { value: unknown; expiresAt: number }>();
  return {
    async get(key: string) {
      const entry = sessions.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        sessions.delete(key);
        return undefined;
      }
      return entry.value;
    },
    async set(key: string, value: unknown, maxAge: number | 'session' | undefined) {
      const ttl = typeof maxAge === 'number' ? maxAge : 24 * 60 * 60 * 1000;
      sessions.set(key, { value, expiresAt: Date.now() + ttl });
    },
    async destroy(key: string) {
      sessions.delete(key);
    },
  };
}
