/** Word lists the scenario draws names, tags and descriptions from. */

export const ROLES = [
  'web',
  'db',
  'app',
  'cache',
  'worker',
  'proxy',
  'mail',
  'ci-runner',
  'k8s-node',
  'farm',
  'bot',
  'vpn',
  'monitor',
  'backup',
] as const;

export const WINDOWS_ROLES = ['RDP', 'SQL', 'APP', 'DESK', 'FARM'] as const;

export const TAGS = [
  'prod',
  'dev',
  'staging',
  'linux',
  'windows',
  'farm',
  'db',
  'k8s',
  'backup-daily',
  'critical',
  'eu',
  'us',
] as const;

export const POOLS = ['customers', 'lab', 'farm-eu', 'farm-us'] as const;

export const OWNERS = ['ops', 'alice', 'bob', 'team-farm', 'team-web'] as const;

export const PURPOSES = [
  'Account farm worker',
  'Build runner',
  'Customer database',
  'Reverse proxy',
  'Monitoring',
] as const;

export const CPU_MODELS = [
  'AMD EPYC 7302P 16-Core Processor',
  'Intel(R) Xeon(R) Gold 6230R CPU @ 2.10GHz',
  'AMD Ryzen 9 7950X3D 16-Core Processor',
] as const;

export const pad2 = (n: number) => String(n).padStart(2, '0');
