// The browser talks to one origin: the web server answers the pages and forwards /api/* to
// the API; see server/main.mjs (it reads API_HOST/API_PORT when it starts, not when the app is
// built).

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Types are checked by `npm run typecheck` at the repository root, not a second time here.
  typescript: { ignoreBuildErrors: true },
  // `next dev` prints every request's URL, but not one with a query string, whose values may be
  // a secret typed into a search box. (/api/* never reaches Next.js: server/main.mjs forwards
  // it, and the API logs it by route pattern. `next start` logs no requests.)
  logging: { incomingRequests: { ignore: [/\?/] } },
};

export default nextConfig;
