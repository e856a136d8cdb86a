import { z } from 'zod';
import { parseTrustProxy, type TrustProxy } from './api/core/trust-proxy';
import { DEFAULT_LIMITS, parseLimits, type Limits } from './limits/limits';
import { parseCodecKeys, type CodecKeyring } from './temporal/codec';

/**
 * Every setting finflow reads, parsed once from the environment at boot.
 * Only `development` and `test` run on development defaults (secrets, embedded services,
 * sandbox money providers); any other environment, an unset NODE_ENV under the
 * production entry points included, refuses to start on them. Every problem is
 * reported at once so an operator fixes the environment in one pass.
 */

const DEV_JWT_SECRET = 'finflow-development-secret-do-not-use-in-production';
const DEV_SERVICE_TOKEN = 'finflow-dev-service-token';
/**
 * The payload codec key of development and tests. It is published here and in the
 * README, so it protects nothing: outside development and test a real key is required.
 */
export const DEV_PAYLOAD_CODEC_KEY_ID = 'finflow-dev';
export const DEV_PAYLOAD_CODEC_KEYS = `${DEV_PAYLOAD_CODEC_KEY_ID}:clFQoJJD8ET0qp9sVFSeAESTN1w5/9OMj20tlSs6HvA=`;

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/** The schema is exported so docs and docker-compose tests can list every variable. */
export const envSchema = z.object({
  // No default here: loadConfig's caller decides what an unset NODE_ENV means.
  NODE_ENV: z.enum(['development', 'test', 'production']),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  PUBLIC_URL: optionalString,

  DATABASE_URL: optionalString,
  DATABASE_POOL_MAX: int(10),
  FINFLOW_DATA_DIR: z.string().default('.data'),
  STARTUP_TIMEOUT_MS: int(60_000),
  EMBEDDED_PG_PORT: int(54320),

  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_TLS: bool(false),
  TEMPORAL_UI_URL: optionalString,
  TEMPORAL_DEV_PORT: int(7233),
  TEMPORAL_UI_PORT: int(8233),
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_TEST_SERVER_PATH: optionalString,
  /** Read by src/tools/binaries.ts (the contract test's fuzzer); listed so the environment is documented in one place. */
  SCHEMATHESIS_PATH: optionalString,
  WORKFLOW_BUNDLE_PATH: optionalString,
  PAYLOAD_CODEC_KEYS: optionalString,
  PAYLOAD_CODEC_KEY_ID: optionalString,
  CODEC_CORS_ORIGINS: optionalString,

  JWT_SECRET: z.string().min(32).default(DEV_JWT_SECRET),
  JWT_ISSUER: z.string().default('finflow'),
  JWT_AUDIENCE: z.string().default('finflow-api'),
  ACCESS_TOKEN_TTL_SECONDS: int(900),
  REFRESH_TOKEN_TTL_SECONDS: int(30 * 24 * 3600),
  SERVICE_TOKEN: z.string().min(16).default(DEV_SERVICE_TOKEN),

  CORS_ORIGINS: z.string().default(''),
  BODY_LIMIT_BYTES: int(100 * 1024),
  TRUST_PROXY: z.string().default('false'),
  DEPENDENCY_TIMEOUT_MS: int(3000),

  LOGIN_THROTTLE_WINDOW_SECONDS: int(15 * 60),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: int(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: int(30),

  IDEMPOTENCY_KEY_TTL_SECONDS: int(24 * 3600),
  DEFAULT_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
    .default('USD'),

  LIMITS: z.string().default(DEFAULT_LIMITS),

  S3_ENDPOINT: optionalString,
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().min(3).default('finflow'),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_FORCE_PATH_STYLE: bool(false),
  LOCAL_S3_PORT: int(9090),

  SMS_PROVIDER: z.enum(['sandbox', 'plivo', 'twilio']).default('sandbox'),
  SMS_STATUS_CALLBACK_URL: optionalString,
  PLIVO_AUTH_ID: optionalString,
  PLIVO_AUTH_TOKEN: optionalString,
  PLIVO_SOURCE_NUMBER: optionalString,
  PLIVO_API_URL: optionalString,
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_FROM: optionalString,
  TWILIO_API_URL: optionalString,

  FUNDING_PROVIDER: z.enum(['sandbox', 'stripe']).default('sandbox'),
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_API_URL: optionalString,
  BILLER_PROVIDER: z.enum(['sandbox', 'http']).default('sandbox'),
  BILLER_API_URL: optionalString,
  BILLER_API_KEY: optionalString,
  // Read by the tools resolver (src/tools/binaries.ts), like TEMPORAL_CLI_PATH.
  STRIPE_MOCK_PATH: optionalString,
  // Read by the tools resolver: the local S3 server of the storage tests.
  VERSITYGW_PATH: optionalString,
  ALLOW_SANDBOX_PROVIDERS: bool(false),
  // issue 14: the chaos run makes the sandboxes slow, fail or time out (docs/reliability.md).
  SANDBOX_FAULTS: bool(false),
  EMAIL_PROVIDER: z.enum(['sandbox', 'smtp']).default('sandbox'),
  EMAIL_FROM: z.string().default('finflow <no-reply@finflow.local>'),
  SMTP_HOST: optionalString,
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_SECURE: bool(false),
  SMTP_USER: optionalString,
  SMTP_PASSWORD: optionalString,

  RATE_LIMIT_WINDOW_SECONDS: int(3600),
  SIGNUP_LIMIT_PER_ADDRESS: int(10),
  SIGNUP_LIMIT_PER_EMAIL: int(3),
  VERIFICATION_LIMIT_PER_ADDRESS: int(30),
  VERIFICATION_LIMIT_PER_TARGET: int(5),
  LOOKUP_LIMIT_PER_ADDRESS: int(120),
  LOOKUP_LIMIT_PER_TARGET: int(100),

  // Issue 13: metrics and traces (docs/observability.md).
  METRICS_TOKEN: optionalString,
  WORKER_METRICS_PORT: int(9464),
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString,
  OTEL_SERVICE_NAME: z.string().default('finflow'),
  // Statements (docs/statements.md).
  STATEMENT_LINK_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(3600),
  // cards (docs/cards.md)
  CARD_FILE_MAX_BYTES: int(1024 * 1024 * 1024),
  CARD_FILE_BATCH_ROWS: int(50_000),
  CARD_PICKUP_PREFIX: z
    .string()
    .regex(/^[^/].*\/$/, 'a prefix such as card-files/inbox/ (ends with "/")')
    .default('card-files/inbox/'),
  CARD_PICKUP_INTERVAL_SECONDS: int(300),
  CARD_STATUS_LIMIT_PER_ADDRESS: int(60),
  CARD_STATUS_LIMIT_PER_CARD: int(10),
  // Messaging campaigns (docs/campaigns.md).
  CAMPAIGN_SENDER_RATE_PER_SECOND: int(10),
  CAMPAIGN_STALE_CLAIM_SECONDS: int(60),
  // The sandbox provider's simulated receipts for campaign messages (docs/campaigns.md, "Providers").
  SANDBOX_SMS_RECEIPTS: bool(true),
  SANDBOX_SMS_RECEIPT_DELAY_MS: z.coerce.number().int().min(0).default(0),
  SANDBOX_SMS_FAILED_PERCENT: z.coerce.number().int().min(0).max(100).default(0),
  SANDBOX_SMS_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  // Invoices from a mailbox (docs/invoices.md).
  MAILBOX_SECRET_KEYS: optionalString,
  MAILBOX_SECRET_KEY_ID: optionalString,
  INVOICE_MAX_ATTACHMENT_BYTES: int(10 * 1024 * 1024),
  IMAP_TIMEOUT_MS: int(15_000),
  INVOICE_BATCH_MESSAGES: int(50),
  INVOICE_TEMPLATES_DIR: optionalString,
  // Read by the tools resolver, and `npm start`'s mail catcher and demo mailbox.
  MAILPIT_PATH: optionalString,
  LOCAL_MAILPIT_SMTP_PORT: int(1025),
  LOCAL_MAILPIT_UI_PORT: int(8025),
  LOCAL_IMAP_PORT: int(1143),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  http: {
    host: string;
    port: number;
    publicUrl: string | undefined;
    corsOrigins: string[];
    bodyLimitBytes: number;
    /** Which hops may report the client address in X-Forwarded-For (none by default). */
    trustProxy: TrustProxy;
  };
  log: { level: Env['LOG_LEVEL']; format: 'json' | 'pretty' };
  database: { url: string | undefined; poolMax: number; embeddedPort: number };
  dataDir: string;
  /** How long `npm start`, the tests and the benchmarks wait for each local service to become ready. */
  startupTimeoutMs: number;
  dependencyTimeoutMs: number;
  temporal: {
    address: string | undefined;
    namespace: string;
    apiKey: string | undefined;
    tls: boolean;
    uiUrl: string | undefined;
    devPort: number;
    uiPort: number;
    cliPath: string | undefined;
    testServerPath: string | undefined;
    workflowBundlePath: string | undefined;
    /** AES-256-GCM keys of the payload codec (src/temporal/codec.ts): seal with the current one, open with any. */
    payloadCodec: CodecKeyring;
    /** Origins (the Temporal Web UI) allowed to call the codec endpoint from a browser. */
    codecCorsOrigins: string[];
  };
  auth: {
    jwtSecret: string;
    issuer: string;
    audience: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    serviceToken: string;
    throttle: { windowSeconds: number; maxFailuresPerAccount: number; maxFailuresPerAddress: number };
  };
  idempotency: { ttlSeconds: number };
  /** Currency of the wallet every new customer gets. */
  defaultCurrency: string;
  /** Per-transaction and daily limits by currency and kind (`LIMITS`; docs/security.md). */
  limits: Limits;
  /**
   * Object storage (S3, MinIO, or under `npm start` a local versitygw when S3_ENDPOINT is
   * unset). Without keys the AWS SDK's own credential chain applies (instance roles).
   */
  storage: {
    endpoint: string | undefined;
    region: string;
    bucket: string;
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
    forcePathStyle: boolean;
    /** The port of `npm start`'s local S3 server. */
    localPort: number;
  };
  /** How long a statement's presigned download link works (STATEMENT_LINK_TTL_SECONDS). */
  statements: { linkTtlSeconds: number };
  sms: {
    provider: Env['SMS_PROVIDER'];
    /** Where providers post delivery receipts; defaults to PUBLIC_URL + the webhook path. */
    statusCallbackUrl: string | undefined;
    /** The auth token also verifies Plivo's webhooks, whichever provider sends. */
    plivo: { authId: string | undefined; authToken: string | undefined; sourceNumber: string | undefined; apiUrl: string | undefined };
    /** Twilio posts receipts to SMS_STATUS_CALLBACK_URL, else PUBLIC_URL + /webhooks/twilio/status. */
    twilio: { accountSid: string | undefined; authToken: string | undefined; from: string | undefined; apiUrl: string | undefined; statusCallbackUrl: string | undefined };
    /** The sandbox: campaign receipts on or off, their delay, the share that fails, and each send's latency. */
    sandbox: { receipts: boolean; receiptDelayMs: number; failedPercent: number; latencyMs: number };
  };
  /** Where money comes from: the card/bank processor that funds wallets. */
  funding: {
    provider: Env['FUNDING_PROVIDER'];
    stripe: { secretKey: string | undefined; apiUrl: string | undefined };
  };
  /** Where bill payments go. */
  billers: {
    provider: Env['BILLER_PROVIDER'];
    http: { baseUrl: string | undefined; apiKey: string | undefined };
  };
  /** The sandbox providers obey the faults of the `sandbox_faults` table (src/providers/sandbox-faults.ts). */
  sandboxFaults: boolean;
  email: {
    provider: Env['EMAIL_PROVIDER'];
    from: string;
    smtp: { host: string | undefined; port: number; secure: boolean; user: string | undefined; password: string | undefined };
  };
  /**
   * Abuse limits (src/api/core/rate-limit.ts): attempts per client address and per target in
   * a fixed window. Login keeps its own failure throttle (auth.throttle).
   */
  rateLimits: {
    windowSeconds: number;
    signup: { perAddress: number; perTarget: number };
    verification: { perAddress: number; perTarget: number };
    lookup: { perAddress: number; perTarget: number };
    cardStatus: { perAddress: number; perTarget: number };
  };
  /** Card delivery status from partner files (docs/cards.md). */
  cards: {
    /** The largest partner file an upload may stream in. */
    maxFileBytes: number;
    /** Rows read and committed per batch. */
    batchRows: number;
    /** Where partners drop files for the pickup Schedule: `<prefix><layout>/<name>`. */
    pickupPrefix: string;
    pickupIntervalSeconds: number;
  };
  /** Metrics and traces (docs/observability.md). */
  observability: {
    /** When set, GET /metrics on the API needs `Authorization: Bearer <token>`. */
    metricsToken: string | undefined;
    /** Where the worker's Prometheus endpoint (Temporal SDK metrics and business counters) listens. */
    workerMetrics: { host: string; port: number };
    /** OTLP/HTTP endpoint traces are exported to; none are exported without it. */
    otlpEndpoint: string | undefined;
    serviceName: string;
  };
  /** Messaging campaigns: the sender's limit across all workers, and when a claim's outcome counts as unknown. */
  campaigns: { senderRatePerSecond: number; staleClaimMs: number };
  /** Invoices from a mailbox (docs/invoices.md). */
  invoices: {
    /** AES-256-GCM keys that seal mailbox passwords at rest: seal with the current one, open with any (rotation). */
    mailboxKeys: CodecKeyring;
    /** Attachments larger than this are skipped and recorded, never downloaded. */
    maxAttachmentBytes: number;
    /** Connection, greeting and socket timeout of each IMAP session. */
    imapTimeoutMs: number;
    /** Messages one ingestion activity reads before it reports progress and the next begins. */
    batchMessages: number;
    /** Where the issuer templates (YAML) are read from; unset means the ones shipped with finflow. */
    templatesDir: string | undefined;
    /** `npm start`'s mail catcher (mailpit: SMTP and web UI) and demo IMAP mailbox. */
    local: { mailpitSmtpPort: number; mailpitUiPort: number; imapPort: number };
  };
}

/** The path Plivo posts message status callbacks to (src/api/webhooks). */
export const PLIVO_STATUS_WEBHOOK_PATH = '/webhooks/plivo/message-status';
/** The path Twilio posts message status callbacks to (SMS and WhatsApp; src/api/webhooks/twilio-status.ts). */
export const TWILIO_STATUS_WEBHOOK_PATH = '/webhooks/twilio/status';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Environments in which development secrets and sandbox money providers are accepted. */
const DEVELOPMENT_ENVS: readonly string[] = ['development', 'test'];

/** Development defaults that must not run anywhere but development and test. */
function productionProblems(source: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (!source.DATABASE_URL) problems.push('DATABASE_URL: required in production');
  if (!source.TEMPORAL_ADDRESS) problems.push('TEMPORAL_ADDRESS: required in production');
  if (!source.JWT_SECRET || source.JWT_SECRET === DEV_JWT_SECRET) problems.push('JWT_SECRET: set a secret of at least 32 characters (the development secret is refused outside development and test)');
  if (!source.SERVICE_TOKEN || source.SERVICE_TOKEN === DEV_SERVICE_TOKEN) problems.push('SERVICE_TOKEN: set a token of at least 16 characters (the development token is refused outside development and test)');
  // A sandbox processor funds any wallet with `tok_success`, a sandbox biller "pays" any
  // bill: real money must never meet one unless an operator asked for it in so many words.
  if (!['true', '1'].includes(source.ALLOW_SANDBOX_PROVIDERS ?? '')) {
    if ((source.FUNDING_PROVIDER ?? 'sandbox') === 'sandbox') {
      problems.push('FUNDING_PROVIDER: the sandbox funds any wallet with test tokens; set FUNDING_PROVIDER=stripe, or ALLOW_SANDBOX_PROVIDERS=true to run on sandbox money providers on purpose');
    }
    if ((source.BILLER_PROVIDER ?? 'sandbox') === 'sandbox') {
      problems.push('BILLER_PROVIDER: the sandbox pays no real biller; set BILLER_PROVIDER=http, or ALLOW_SANDBOX_PROVIDERS=true to run on sandbox money providers on purpose');
    }
  }
  return problems;
}

const isHttpUrl = (value: string) => /^https?:\/\//i.test(value) && URL.canParse(value);

/** Plivo needs its account and a sender; the URLs it is given must be absolute http(s). */
function smsProblems(source: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const required = { plivo: ['PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN', 'PLIVO_SOURCE_NUMBER'], twilio: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] };
  const provider = source.SMS_PROVIDER;
  if (provider === 'plivo' || provider === 'twilio') {
    for (const name of required[provider]) {
      if (!source[name]) problems.push(`${name}: required when SMS_PROVIDER=${provider}`);
    }
  }
  for (const name of ['PLIVO_API_URL', 'TWILIO_API_URL', 'SMS_STATUS_CALLBACK_URL', 'S3_ENDPOINT']) {
    const value = source[name];
    if (value && !isHttpUrl(value)) problems.push(`${name}: must be an absolute http(s) URL`);
  }
  return problems;
}

/** Each real money provider needs its account; the URLs it is given must be absolute http(s). */
function moneyProviderProblems(source: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (source.FUNDING_PROVIDER === 'stripe' && !source.STRIPE_SECRET_KEY) problems.push('STRIPE_SECRET_KEY: required when FUNDING_PROVIDER=stripe');
  if (source.BILLER_PROVIDER === 'http') {
    for (const name of ['BILLER_API_URL', 'BILLER_API_KEY']) {
      if (!source[name]) problems.push(`${name}: required when BILLER_PROVIDER=http`);
    }
  }
  for (const name of ['STRIPE_API_URL', 'BILLER_API_URL']) {
    const value = source[name];
    if (value && !isHttpUrl(value)) problems.push(`${name}: must be an absolute http(s) URL`);
  }
  return problems;
}

export interface LoadConfigOptions {
  /**
   * What an unset NODE_ENV means. `production` unless the caller is `npm start`: the
   * production entry points must never fall back to development secrets or sandboxes.
   */
  defaultEnv?: Env['NODE_ENV'];
}

/** Which variables hold one AES-256-GCM keyring, and its published development value. */
interface KeyringVars {
  keys: string;
  keyId: string;
  devKeys: string;
}

/**
 * An AES-256-GCM keyring (the payload codec's, the mailbox secrets'). Development and test
 * fall back to the published dev key; anywhere else a real key is required and the dev
 * key is refused. With several keys, the id names the one that seals; all of them open.
 */
function keyringFrom(source: NodeJS.ProcessEnv, nodeEnv: string, vars: KeyringVars): { keyring?: CodecKeyring; problems: string[] } {
  const devOrTest = nodeEnv === 'development' || nodeEnv === 'test';
  const configured = source[vars.keys] || undefined;
  if (!configured && !devOrTest) return { problems: [`${vars.keys}: required outside development and test (id:base64key,...)`] };
  const { keys, problems } = parseCodecKeys(configured ?? vars.devKeys);
  const listed = problems.map((p) => `${vars.keys}: ${p}`);
  if (!devOrTest && configured?.includes(vars.devKeys.split(':')[1] as string)) {
    listed.push(`${vars.keys}: the development key is published; generate a real one (openssl rand -base64 32)`);
  }
  const currentKeyId = source[vars.keyId] || (keys.length === 1 ? keys[0]?.id : undefined);
  if (!currentKeyId) listed.push(`${vars.keyId}: required when ${vars.keys} lists several keys (the one new values are sealed with)`);
  else if (keys.length > 0 && !keys.some((k) => k.id === currentKeyId)) listed.push(`${vars.keyId}: "${currentKeyId}" is not listed in ${vars.keys}`);
  if (listed.length > 0 || !currentKeyId) return { problems: listed };
  return { keyring: { currentKeyId, keys }, problems: [] };
}

export const DEV_MAILBOX_SECRET_KEYS = 'finflow-dev-mailbox:511XUJcAHJYJkdpE742zGE76V10+dVJQ63iQX90IsHo=';

/** The Web UI's origin(s): TEMPORAL_UI_URL's, or the dev server's UI under either local name. */
function webUiOrigins(env: Env): string[] {
  if (env.TEMPORAL_UI_URL && URL.canParse(env.TEMPORAL_UI_URL)) return [new URL(env.TEMPORAL_UI_URL).origin];
  return [`http://localhost:${env.TEMPORAL_UI_PORT}`, `http://127.0.0.1:${env.TEMPORAL_UI_PORT}`];
}

/** Parses the environment; throws one ConfigError listing every problem. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const nodeEnv = environment.NODE_ENV || (options.defaultEnv ?? 'production');
  const source: NodeJS.ProcessEnv = { ...environment, NODE_ENV: nodeEnv };
  const parsed = envSchema.safeParse(source);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (!DEVELOPMENT_ENVS.includes(nodeEnv)) problems.push(...productionProblems(source));
  problems.push(...smsProblems(source), ...moneyProviderProblems(source));
  if (source.EMAIL_PROVIDER === 'smtp' && !source.SMTP_HOST) problems.push('SMTP_HOST: required when EMAIL_PROVIDER=smtp');
  const trustProxy = parseTrustProxy(source.TRUST_PROXY ?? 'false');
  if ('error' in trustProxy) problems.push(`TRUST_PROXY: ${trustProxy.error}`);
  const limits = parseLimits(source.LIMITS ?? DEFAULT_LIMITS);
  if ('problems' in limits) problems.push(...limits.problems.map((p) => `LIMITS: ${p}`));
  const codec = keyringFrom(source, nodeEnv, { keys: 'PAYLOAD_CODEC_KEYS', keyId: 'PAYLOAD_CODEC_KEY_ID', devKeys: DEV_PAYLOAD_CODEC_KEYS });
  problems.push(...codec.problems);
  // Without keys of their own, mailbox passwords are sealed with the payload codec's keys (AES-256-GCM either way).
  const mailboxKeys = source.MAILBOX_SECRET_KEYS || DEVELOPMENT_ENVS.includes(nodeEnv) ? keyringFrom(source, nodeEnv, { keys: 'MAILBOX_SECRET_KEYS', keyId: 'MAILBOX_SECRET_KEY_ID', devKeys: DEV_MAILBOX_SECRET_KEYS }) : codec;
  problems.push(...mailboxKeys.problems);
  if (!parsed.success || problems.length > 0 || 'error' in trustProxy || 'problems' in limits || !codec.keyring || !mailboxKeys.keyring) throw new ConfigError(problems);
  const env = parsed.data;
  const list = (value: string) =>
    value
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);

  return {
    env: env.NODE_ENV,
    http: {
      host: env.HOST,
      port: env.PORT,
      publicUrl: env.PUBLIC_URL,
      corsOrigins: env.CORS_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      trustProxy,
    },
    log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT ?? (env.NODE_ENV === 'production' ? 'json' : 'pretty') },
    database: { url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX, embeddedPort: env.EMBEDDED_PG_PORT },
    dataDir: env.FINFLOW_DATA_DIR,
    startupTimeoutMs: env.STARTUP_TIMEOUT_MS,
    dependencyTimeoutMs: env.DEPENDENCY_TIMEOUT_MS,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      apiKey: env.TEMPORAL_API_KEY,
      tls: env.TEMPORAL_TLS || Boolean(env.TEMPORAL_API_KEY),
      uiUrl: env.TEMPORAL_UI_URL,
      devPort: env.TEMPORAL_DEV_PORT,
      uiPort: env.TEMPORAL_UI_PORT,
      cliPath: env.TEMPORAL_CLI_PATH,
      testServerPath: env.TEMPORAL_TEST_SERVER_PATH,
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH,
      payloadCodec: codec.keyring,
      // The Web UI reads payloads through the codec endpoint from the browser; by default the UI finflow documents.
      codecCorsOrigins: env.CODEC_CORS_ORIGINS ? list(env.CODEC_CORS_ORIGINS) : webUiOrigins(env),
    },
    auth: {
      jwtSecret: env.JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
      serviceToken: env.SERVICE_TOKEN,
      throttle: {
        windowSeconds: env.LOGIN_THROTTLE_WINDOW_SECONDS,
        maxFailuresPerAccount: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
        maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_ADDRESS,
      },
    },
    idempotency: { ttlSeconds: env.IDEMPOTENCY_KEY_TTL_SECONDS },
    defaultCurrency: env.DEFAULT_CURRENCY,
    limits: limits.limits,
    storage: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      bucket: env.S3_BUCKET,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      localPort: env.LOCAL_S3_PORT,
    },
    statements: { linkTtlSeconds: env.STATEMENT_LINK_TTL_SECONDS },
    sms: {
      provider: env.SMS_PROVIDER,
      statusCallbackUrl:
        env.SMS_STATUS_CALLBACK_URL ?? (env.PUBLIC_URL ? `${env.PUBLIC_URL.replace(/\/+$/, '')}${PLIVO_STATUS_WEBHOOK_PATH}` : undefined),
      plivo: {
        authId: env.PLIVO_AUTH_ID,
        authToken: env.PLIVO_AUTH_TOKEN,
        sourceNumber: env.PLIVO_SOURCE_NUMBER,
        apiUrl: env.PLIVO_API_URL,
      },
      twilio: {
        accountSid: env.TWILIO_ACCOUNT_SID,
        authToken: env.TWILIO_AUTH_TOKEN,
        from: env.TWILIO_FROM,
        apiUrl: env.TWILIO_API_URL,
        statusCallbackUrl: env.SMS_STATUS_CALLBACK_URL ?? (env.PUBLIC_URL ? `${env.PUBLIC_URL.replace(/\/+$/, '')}${TWILIO_STATUS_WEBHOOK_PATH}` : undefined),
      },
      sandbox: { receipts: env.SANDBOX_SMS_RECEIPTS, receiptDelayMs: env.SANDBOX_SMS_RECEIPT_DELAY_MS, failedPercent: env.SANDBOX_SMS_FAILED_PERCENT, latencyMs: env.SANDBOX_SMS_LATENCY_MS },
    },
    funding: { provider: env.FUNDING_PROVIDER, stripe: { secretKey: env.STRIPE_SECRET_KEY, apiUrl: env.STRIPE_API_URL } },
    billers: { provider: env.BILLER_PROVIDER, http: { baseUrl: env.BILLER_API_URL, apiKey: env.BILLER_API_KEY } },
    sandboxFaults: env.SANDBOX_FAULTS,
    email: {
      provider: env.EMAIL_PROVIDER,
      from: env.EMAIL_FROM,
      smtp: { host: env.SMTP_HOST, port: env.SMTP_PORT, secure: env.SMTP_SECURE, user: env.SMTP_USER, password: env.SMTP_PASSWORD },
    },
    rateLimits: {
      windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
      signup: { perAddress: env.SIGNUP_LIMIT_PER_ADDRESS, perTarget: env.SIGNUP_LIMIT_PER_EMAIL },
      verification: { perAddress: env.VERIFICATION_LIMIT_PER_ADDRESS, perTarget: env.VERIFICATION_LIMIT_PER_TARGET },
      lookup: { perAddress: env.LOOKUP_LIMIT_PER_ADDRESS, perTarget: env.LOOKUP_LIMIT_PER_TARGET },
      cardStatus: { perAddress: env.CARD_STATUS_LIMIT_PER_ADDRESS, perTarget: env.CARD_STATUS_LIMIT_PER_CARD },
    },
    cards: {
      maxFileBytes: env.CARD_FILE_MAX_BYTES,
      batchRows: env.CARD_FILE_BATCH_ROWS,
      pickupPrefix: env.CARD_PICKUP_PREFIX,
      pickupIntervalSeconds: env.CARD_PICKUP_INTERVAL_SECONDS,
    },
    observability: {
      metricsToken: env.METRICS_TOKEN,
      workerMetrics: { host: env.WORKER_METRICS_HOST, port: env.WORKER_METRICS_PORT },
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: env.OTEL_SERVICE_NAME,
    },
    campaigns: { senderRatePerSecond: env.CAMPAIGN_SENDER_RATE_PER_SECOND, staleClaimMs: env.CAMPAIGN_STALE_CLAIM_SECONDS * 1000 },
    invoices: {
      mailboxKeys: mailboxKeys.keyring,
      maxAttachmentBytes: env.INVOICE_MAX_ATTACHMENT_BYTES,
      imapTimeoutMs: env.IMAP_TIMEOUT_MS,
      batchMessages: env.INVOICE_BATCH_MESSAGES,
      templatesDir: env.INVOICE_TEMPLATES_DIR,
      local: { mailpitSmtpPort: env.LOCAL_MAILPIT_SMTP_PORT, mailpitUiPort: env.LOCAL_MAILPIT_UI_PORT, imapPort: env.LOCAL_IMAP_PORT },
    },
  };
}

/** Config with the database and Temporal addresses resolved (after embedded services start). */
export function withServices(config: Config, databaseUrl: string, temporalAddress: string): Config {
  return {
    ...config,
    database: { ...config.database, url: databaseUrl },
    temporal: { ...config.temporal, address: temporalAddress },
  };
}
