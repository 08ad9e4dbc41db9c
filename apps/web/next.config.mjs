// The browser talks to one origin: the web server answers the pages and forwards /api/* to
// the API; see src/proxy.ts (it reads API_PORT when the server runs, not when it is built).

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Types are checked by `npm run typecheck` at the repository root, not a second time here.
  typescript: { ignoreBuildErrors: true },
};

export default nextConfig;
