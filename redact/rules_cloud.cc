// Cloud and infrastructure providers, and database/broker connection URLs.
//
// Token-shaped rules match a documented prefix with its exact length and
// charset, bounded on both sides so that a longer identifier never matches
// in part. Context rules (a value next to a provider-specific variable or
// field name) report only the value, and use an entropy floor where the
// value's shape alone would also fit hashes or identifiers.
#include "redact/catalogue.h"

namespace tsync::redact {

namespace {

// A value assigned to a key: `KEY=v`, `KEY: v`, `"key": "v"`, `key = 'v'`.
#define TSYNC_ASSIGN R"re(["']?\s*[:=]\s*["']?)re"

// Database and broker URLs: the secret is only the password between
// `user:` and `@`. The user may be empty (redis://:pw@host).
std::string UrlPasswordPattern(const std::string& schemes) {
  return R"re((?i)\b(?:)re" + schemes + R"re()://[^\s:/@'"<>]*:([^\s/@'"?#<>]+)@)re";
}

void AddUrlRule(std::vector<RuleSpec>* rules, std::string id, std::string what, const std::string& schemes,
                std::vector<std::string> keywords) {
  rules->push_back({std::move(id), "database-url", "Password in a " + what + " connection URL",
                    UrlPasswordPattern(schemes), std::move(keywords), 1, 2.0, true});
}

}  // namespace

void AddCloudRules(std::vector<RuleSpec>* rules) {
  auto add = [rules](std::string id, std::string family, std::string description, std::string pattern,
                     std::vector<std::string> keywords, int group = 1, double min_entropy = 0,
                     bool shapeless = false) {
    rules->push_back({std::move(id), std::move(family), std::move(description), std::move(pattern),
                      std::move(keywords), group, min_entropy, shapeless});
  };

  // ---- AWS ----------------------------------------------------------------
  add("aws-access-key-id", "aws", "AWS access key id (AKIA/ASIA/ABIA/ACCA/A3T…)",
      R"re(\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b)re", {"akia", "asia", "abia", "acca", "a3t"});
  // 40 base64 characters; an entropy floor above 4 bits/byte rules out hex digests.
  add("aws-secret-access-key", "aws", "AWS secret access key assigned to a secret-access-key name",
      R"re((?i)\b(?:aws_?)?(?:secret_?access_?key|secret-access-key|aws_?secret_?key)(?:["']?\s*[:=]\s*["']?|\s+["']?)([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$))re",
      {"secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret_key", "awssecretkey"}, 1, 4.1);
  add("aws-session-token", "aws", "AWS session / security token assigned to a session-token name",
      R"re((?i)(?:\b(?:aws_?)?(?:session_?token|security_?token)(?:["']?\s*[:=]\s*["']?|\s+["']?)|\bx-amz-security-token:\s*)([A-Za-z0-9/+]{100,}={0,2}))re",
      {"session_token", "sessiontoken", "security_token", "securitytoken", "x-amz-security-token"}, 1, 4.5);
  add("aws-mws-auth-token", "aws", "Amazon Marketplace Web Service auth token",
      R"re(\b(amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b)re", {"amzn.mws."});
  add("aws-bedrock-api-key", "aws", "Amazon Bedrock long-term API key (ABSK + base64 of 'BedrockAPIKey-')",
      R"re(\b(ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{40,400}={0,2})(?:[^A-Za-z0-9+/=]|$))re", {"absk"});
  add("aws-bedrock-short-term-api-key", "aws",
      "Amazon Bedrock short-term API key (bedrock-api-key- + base64 of 'bedrock.amazonaws.com')",
      R"re(\b(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/%=]{40,}))re", {"bedrock-api-key-"});

  // ---- Google Cloud -------------------------------------------------------
  add("gcp-api-key", "gcp", "Google API key",
      R"re(\b(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$))re", {"aiza"});
  add("gcp-oauth-client-secret", "gcp", "Google OAuth client secret",
      R"re((?:^|[^0-9A-Za-z_-])(GOCSPX-[0-9A-Za-z_-]{28})(?:[^0-9A-Za-z_-]|$))re", {"gocspx"});
  add("gcp-oauth-access-token", "gcp", "Google OAuth 2.0 access token (ya29.)",
      R"re(\b(ya29\.[0-9A-Za-z_-][0-9A-Za-z_.-]{28,}[0-9A-Za-z_-]))re", {"ya29."});
  add("gcp-oauth-refresh-token", "gcp", "Google OAuth 2.0 refresh token (1//…) assigned to a refresh-token name",
      R"re((?i)\brefresh_?token(?:["']?\s*[:=]\s*["']?|\s+["']?)(1//[0-9A-Za-z_-]{40,}))re",
      {"refresh_token", "refreshtoken"});
  add("gcp-service-account-private-key-id", "gcp", "Private key id of a Google service-account key file",
      R"re((?i)\bprivate_key_id)re" TSYNC_ASSIGN R"re(([a-f0-9]{40})(?:[^a-z0-9]|$))re", {"private_key_id"});
  add("gcp-fcm-server-key", "gcp", "Firebase Cloud Messaging legacy server key",
      R"re(\b(AAAA[0-9A-Za-z_-]{7}:APA91b[0-9A-Za-z_-]{100,160})(?:[^0-9A-Za-z_-]|$))re", {"apa91b"});

  // ---- Azure --------------------------------------------------------------
  add("azure-storage-account-key", "azure", "Azure storage account key in a connection string",
      R"re((?i)\bAccountKey=([A-Za-z0-9+/]{86}==)(?:[^A-Za-z0-9+/=]|$))re", {"accountkey"});
  add("azure-shared-access-key", "azure", "Azure Service Bus / Event Hubs / IoT Hub shared access key",
      R"re((?i)\bSharedAccessKey=([A-Za-z0-9+/]{42,43}=)(?:[^A-Za-z0-9+/=]|$))re", {"sharedaccesskey"});
  // The signature is URL-encoded base64 of an HMAC-SHA256 (44 characters before encoding).
  add("azure-sas-signature", "azure", "Signature of an Azure shared access signature (SAS) token",
      R"re((?:[?&;]|\bSharedAccessSignature=)sig=([A-Za-z0-9%+/=]{43,128})(?:[^A-Za-z0-9%+/=]|$))re", {"sig"});
  // Values made only of hex digits and dashes (UUIDs, digests) are ids, not secrets.
  add("azure-client-secret", "azure", "Azure AD client secret assigned to AZURE_CLIENT_SECRET / ARM_CLIENT_SECRET",
      R"re((?i)\b(?:azure|arm)_client_secret)re" TSYNC_ASSIGN
      R"re(([A-Za-z0-9_~.+/=@:?*\[\]-]{0,63}[g-zG-Z_~.+/=@:?*\[\]][A-Za-z0-9_~.+/=@:?*\[\]-]{0,63})(?:[^A-Za-z0-9_~.+/=@:?*\[\]-]|$))re",
      {"azure_client_secret", "arm_client_secret"}, 1, 3.5, true);
  // The shape is distinctive, but its marker "Q~" cannot be a keyword; any
  // of the context words below occurs where such secrets are pasted.
  add("azure-ad-client-secret", "azure", "Azure AD (Entra ID) client secret (…8Q~…)",
      R"re((?:^|[^A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$))re",
      {"secret", "password", "azure", "tenant", "credential", "entra", "msal"});

  // ---- DigitalOcean -------------------------------------------------------
  add("digitalocean-personal-access-token", "digitalocean", "DigitalOcean personal access token",
      R"re(\b(dop_v1_[a-f0-9]{64})\b)re", {"dop_v1_"});
  add("digitalocean-oauth-token", "digitalocean", "DigitalOcean OAuth access token",
      R"re(\b(doo_v1_[a-f0-9]{64})\b)re", {"doo_v1_"});
  add("digitalocean-refresh-token", "digitalocean", "DigitalOcean OAuth refresh token",
      R"re(\b(dor_v1_[a-f0-9]{64})\b)re", {"dor_v1_"});

  // ---- Heroku -------------------------------------------------------------
  add("heroku-api-key", "heroku", "Heroku API key (a UUID) assigned to a heroku key/token name",
      R"re((?i)\bheroku[a-z0-9_-]{0,20}(?:key|token|secret|password))re" TSYNC_ASSIGN
      R"re(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b)re",
      {"heroku"});
  add("heroku-api-token", "heroku", "Heroku API token (HRKU-)",
      R"re(\b(HRKU-[0-9A-Za-z_-]{40,80})(?:[^0-9A-Za-z_-]|$))re", {"hrku-"});

  // ---- Cloudflare ---------------------------------------------------------
  add("cloudflare-api-token", "cloudflare", "Cloudflare API token assigned to CLOUDFLARE_API_TOKEN / CF_API_TOKEN",
      R"re((?i)\b(?:cloudflare|cf)_(?:api_)?token)re" TSYNC_ASSIGN R"re(([A-Za-z0-9_-]{40})(?:[^A-Za-z0-9_-]|$))re",
      {"cloudflare_token", "cloudflare_api_token", "cf_token", "cf_api_token"}, 1, 4.1);
  add("cloudflare-global-api-key", "cloudflare", "Cloudflare global API key (37 hex) next to its name or X-Auth-Key",
      R"re((?i)(?:\b(?:cloudflare|cf)_(?:global_api_|api_|auth_)?key)re" TSYNC_ASSIGN
      R"re(|\bx-auth-key:\s*)([a-f0-9]{37})(?:[^A-Za-z0-9_-]|$))re",
      {"cloudflare_key", "cloudflare_api_key", "cloudflare_global_api_key", "cloudflare_auth_key", "cf_key",
       "cf_api_key", "cf_global_api_key", "cf_auth_key", "x-auth-key"});
  add("cloudflare-origin-ca-key", "cloudflare", "Cloudflare Origin CA key",
      R"re(\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b)re", {"v1.0-"});

  // ---- Fly.io -------------------------------------------------------------
  add("flyio-oauth-token", "flyio", "Fly.io OAuth access token (fo1_)",
      R"re(\b(fo1_[0-9A-Za-z_-]{43})(?:[^0-9A-Za-z_-]|$))re", {"fo1_"});
  add("flyio-macaroon-token", "flyio", "Fly.io macaroon token (fm1a_/fm1r_/fm2_, e.g. after 'FlyV1 ')",
      R"re(\b((?:fm1[ar]|fm2)_[A-Za-z0-9+/]{100,}={0,3}))re", {"fm1a_", "fm1r_", "fm2_"});

  // ---- Vercel -------------------------------------------------------------
  add("vercel-token", "vercel", "Vercel access token assigned to VERCEL_TOKEN or passed to vercel --token",
      R"re((?i)(?:\bvercel_(?:access_|api_|auth_)?token)re" TSYNC_ASSIGN
      R"re(|\bvercel\b[^\n]*?\s--token[=\s]["']?)([A-Za-z0-9]{24})(?:[^A-Za-z0-9_-]|$))re",
      {"vercel"}, 1, 3.5);

  // ---- Supabase -----------------------------------------------------------
  add("supabase-access-token", "supabase", "Supabase personal access token (sbp_)",
      R"re(\b(sbp_[a-f0-9]{40})\b)re", {"sbp_"});
  add("supabase-secret-key", "supabase", "Supabase secret API key (sb_secret_)",
      R"re(\b(sb_secret_[A-Za-z0-9_-]{20,64})(?:[^A-Za-z0-9_-]|$))re", {"sb_secret_"});

  // ---- Databricks ---------------------------------------------------------
  add("databricks-api-token", "databricks", "Databricks personal access token (dapi)",
      R"re(\b(dapi[a-f0-9]{32}(?:-\d)?)\b)re", {"dapi"});

  // ---- HashiCorp ----------------------------------------------------------
  add("vault-service-token", "vault", "HashiCorp Vault service token (hvs.)",
      R"re(\b(hvs\.[A-Za-z0-9_-]{24,}))re", {"hvs."});
  add("vault-batch-token", "vault", "HashiCorp Vault batch token (hvb.)",
      R"re(\b(hvb\.[A-Za-z0-9_-]{24,}))re", {"hvb."});
  add("vault-recovery-token", "vault", "HashiCorp Vault recovery token (hvr.)",
      R"re(\b(hvr\.[A-Za-z0-9_-]{24,}))re", {"hvr."});
  add("vault-legacy-token", "vault", "Legacy HashiCorp Vault token (s. + 24) in VAULT_TOKEN or X-Vault-Token",
      R"re((?i)(?:\bvault_token)re" TSYNC_ASSIGN R"re(|\bx-vault-token:\s*)(s\.[A-Za-z0-9]{24})(?:[^A-Za-z0-9_-]|$))re",
      {"vault_token", "x-vault-token"}, 1, 3.0);
  add("terraform-cloud-api-token", "terraform", "Terraform Cloud / Enterprise API token (.atlasv1.)",
      R"re(\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?:[^A-Za-z0-9_=-]|$))re", {"atlasv1"});

  // ---- Pulumi, Doppler, PlanetScale ----------------------------------------
  add("pulumi-access-token", "pulumi", "Pulumi access token (pul-)",
      R"re(\b(pul-[a-f0-9]{40})\b)re", {"pul-"});
  add("doppler-token", "doppler", "Doppler personal, CLI, service-account, SCIM or audit token",
      R"re(\b(dp\.(?:pt|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44})\b)re",
      {"dp.pt.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."});
  add("doppler-service-token", "doppler", "Doppler service token (dp.st.[config.])",
      R"re(\b(dp\.st\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44})\b)re", {"dp.st."});
  add("planetscale-api-token", "planetscale", "PlanetScale service token (pscale_tkn_)",
      R"re(\b(pscale_tkn_[A-Za-z0-9_=.-]{32,64})(?:[^A-Za-z0-9_=.-]|$))re", {"pscale_tkn_"});
  add("planetscale-password", "planetscale", "PlanetScale database password (pscale_pw_)",
      R"re(\b(pscale_pw_[A-Za-z0-9_=.-]{32,64})(?:[^A-Za-z0-9_=.-]|$))re", {"pscale_pw_"});
  add("planetscale-oauth-token", "planetscale", "PlanetScale OAuth token (pscale_oauth_)",
      R"re(\b(pscale_oauth_[A-Za-z0-9_=.-]{32,64})(?:[^A-Za-z0-9_=.-]|$))re", {"pscale_oauth_"});

  // ---- Observability: Datadog, New Relic, Grafana, Sentry -------------------
  add("datadog-api-key", "datadog", "Datadog API key (32 hex) assigned to DD_API_KEY / DATADOG_API_KEY or DD-API-KEY",
      R"re((?i)(?:\b(?:dd|datadog)_api_key)re" TSYNC_ASSIGN R"re(|\bdd-api-key:\s*)([a-f0-9]{32})(?:[^a-z0-9_-]|$))re",
      {"dd_api_key", "datadog_api_key", "dd-api-key"});
  add("datadog-app-key", "datadog",
      "Datadog application key (40 hex) assigned to DD_APP_KEY / DATADOG_APP_KEY or DD-APPLICATION-KEY",
      R"re((?i)(?:\b(?:dd|datadog)_(?:app|application)_key)re" TSYNC_ASSIGN
      R"re(|\bdd-application-key:\s*)([a-f0-9]{40})(?:[^a-z0-9_-]|$))re",
      {"dd_app_key", "datadog_app_key", "dd_application_key", "datadog_application_key", "dd-application-key"});
  add("newrelic-user-api-key", "newrelic", "New Relic user API key (NRAK-)",
      R"re(\b(NRAK-[A-Z0-9]{27})\b)re", {"nrak-"});
  add("newrelic-admin-api-key", "newrelic", "New Relic admin API key (NRAA-)",
      R"re(\b(NRAA-[A-Za-z0-9]{27})\b)re", {"nraa-"});
  add("newrelic-rest-api-key", "newrelic", "New Relic REST API key (NRRA-)",
      R"re(\b(NRRA-[A-Za-z0-9]{27,42})\b)re", {"nrra-"});
  add("newrelic-browser-api-token", "newrelic", "New Relic browser API token (NRJS-)",
      R"re(\b(NRJS-[a-f0-9]{19})\b)re", {"nrjs-"});
  add("newrelic-insert-key", "newrelic", "New Relic Insights insert key (NRII-)",
      R"re(\b(NRII-[A-Za-z0-9_-]{32})(?:[^A-Za-z0-9_-]|$))re", {"nrii-"});
  add("newrelic-license-key", "newrelic", "New Relic ingest license key (…NRAL)",
      R"re(\b([a-f0-9]{36}NRAL)\b)re", {"nral"});
  add("grafana-cloud-api-token", "grafana", "Grafana Cloud access policy / API token (glc_)",
      R"re(\b(glc_[A-Za-z0-9+/]{32,400}={0,2})(?:[^A-Za-z0-9+/=]|$))re", {"glc_"});
  add("grafana-service-account-token", "grafana", "Grafana service account token (glsa_)",
      R"re(\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b)re", {"glsa_"});
  add("grafana-api-key", "grafana", "Grafana legacy API key (base64 of {\"k\":…)",
      R"re(\b(eyJrIjoi[A-Za-z0-9+/]{60,400}={0,2})(?:[^A-Za-z0-9+/=._-]|$))re", {"eyjrijoi"});
  add("sentry-dsn", "sentry", "Key part of a Sentry DSN URL",
      R"re(\bhttps?://([a-f0-9]{32}(?::[a-f0-9]{32})?)@[A-Za-z0-9.-]+(?::\d+)?/(?:[A-Za-z0-9._-]+/)*\d+\b)re",
      {"sentry", "ingest"});
  add("sentry-org-auth-token", "sentry", "Sentry organization auth token (sntrys_)",
      R"re(\b(sntrys_eyJ[A-Za-z0-9+/]{40,400}={0,2}_[A-Za-z0-9+/]{43})(?:[^A-Za-z0-9+/=_]|$))re", {"sntrys_"});
  add("sentry-user-auth-token", "sentry", "Sentry user auth token (sntryu_)",
      R"re(\b(sntryu_[a-f0-9]{64})\b)re", {"sntryu_"});
  add("sentry-legacy-auth-token", "sentry", "Legacy Sentry auth token (64 hex) assigned to SENTRY_AUTH_TOKEN",
      R"re((?i)\bsentry_auth_token)re" TSYNC_ASSIGN R"re(([a-f0-9]{64})\b)re", {"sentry_auth_token"});

  // ---- Alibaba Cloud ------------------------------------------------------
  add("alibaba-access-key-id", "alibaba", "Alibaba Cloud AccessKey id (LTAI)",
      R"re(\b(LTAI[A-Za-z0-9]{12,20})\b)re", {"ltai"});
  add("alibaba-access-key-secret", "alibaba", "Alibaba Cloud AccessKey secret assigned to an access-key-secret name",
      R"re((?i)\b(?:alibaba_cloud|alicloud|aliyun|alibaba)_access_?key_?secret)re" TSYNC_ASSIGN
      R"re(([A-Za-z0-9]{30})(?:[^A-Za-z0-9_-]|$))re",
      {"alibaba", "alicloud", "aliyun"}, 1, 3.5);

  // ---- Database and broker URLs -------------------------------------------
  AddUrlRule(rules, "postgres-url-password", "PostgreSQL",
             R"re(postgres(?:ql)?(?:\+[a-z0-9]+)?|cockroach(?:db)?|timescaledb)re", {"postgres", "cockroach", "timescaledb"});
  AddUrlRule(rules, "mysql-url-password", "MySQL / MariaDB", R"re(mysqlx?(?:\+[a-z0-9]+)?|mariadb(?:\+[a-z0-9]+)?)re",
             {"mysql", "mariadb"});
  AddUrlRule(rules, "mongodb-url-password", "MongoDB", R"re(mongodb(?:\+srv)?)re", {"mongodb"});
  AddUrlRule(rules, "redis-url-password", "Redis / Valkey", R"re(rediss?(?:\+sentinel)?|valkeys?)re",
             {"redis", "valkey"});
  AddUrlRule(rules, "amqp-url-password", "AMQP (RabbitMQ)", R"re(amqps?)re", {"amqp"});
  AddUrlRule(rules, "mssql-url-password", "SQL Server", R"re(mssql(?:\+[a-z0-9]+)?|sqlserver)re",
             {"mssql", "sqlserver"});
  AddUrlRule(rules, "clickhouse-url-password", "ClickHouse", R"re(clickhouses?(?:\+[a-z0-9]+)?)re", {"clickhouse"});
  AddUrlRule(rules, "broker-url-password", "Kafka / NATS / MQTT / STOMP broker",
             R"re(kafka|nats|tls\+nats|mqtts?|stomp(?:\+ssl)?)re", {"kafka", "nats", "mqtt", "stomp"});
  AddUrlRule(rules, "database-url-password", "Neo4j / Couchbase / Cassandra / Oracle / Snowflake / InfluxDB",
             R"re(neo4j(?:\+s|\+ssc)?|bolt(?:\+s|\+ssc)?|couchbases?|cassandra|oracle(?:\+[a-z0-9]+)?|snowflake|influxdb)re",
             {"neo4j", "bolt", "couchbase", "cassandra", "oracle", "snowflake", "influxdb"});
}

#undef TSYNC_ASSIGN

}  // namespace tsync::redact
