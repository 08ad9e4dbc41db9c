// The browser talks to one origin: the web server answers the pages and forwards /api/* to
// the API; see server/main.mjs (it reads API_HOST/API_PORT when it starts, not when the app is
// built).

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Types are checked by `npm run typecheck` at the repository root, not a second time here.
  typescript: { ignoreBuildErrors: true },
};

export default nextConfig;
