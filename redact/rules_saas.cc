// SaaS, messaging and payment providers: Slack, Stripe, Twilio, SendGrid,
// Mailgun, Mailchimp, Shopify, Square, Telegram, Discord, and a tail of
// product APIs with a documented token shape.
//
// Conventions used below:
//  * Tokens with a distinctive prefix match on their shape alone, bounded on
//    both sides so that a longer identifier never matches in part. Tokens
//    whose alphabet ends in word characters use \b; tokens whose alphabet
//    includes '-' (or '=', '+', '/') end with kEnd-style classes, and the
//    token is then capture group 1.
//  * Values without a distinctive prefix (32 hex, UUIDs, 40 alnum) are only
//    secrets right after a config key naming the provider (`TWILIO_AUTH_TOKEN=`,
//    `"postmarkServerToken": "`, `X-Postmark-Server-Token:`); the provider
//    name is then the keyword, the value is group 1, and an entropy floor
//    keeps low-information values (0000…, abcabc…) out.
#include <string>

#include "redact/catalogue.h"

namespace tsync::redact {

namespace {

using namespace std::string_literals;

// Between a config key and its value: `KEY=`, `key: `, `"key": "`, `key => '`.
constexpr char kAssign[] = R"re(["']?\s*(?:[:=]|=>)\s*["']?)re";
// After a token whose alphabet includes '-': the next character is not part of it.
constexpr char kEnd[] = R"re((?:[^A-Za-z0-9_-]|$))re";
// A lower-case UUID (also accepted in upper case).
constexpr char kUuid[] = R"re([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})re";

void Add(std::vector<RuleSpec>* rules, std::string id, std::string family, std::string description,
         std::string pattern, std::vector<std::string> keywords, int secret_group = 0, double min_entropy = 0) {
  RuleSpec spec;
  spec.id = std::move(id);
  spec.family = std::move(family);
  spec.description = std::move(description);
  spec.pattern = std::move(pattern);
  spec.keywords = std::move(keywords);
  spec.secret_group = secret_group;
  spec.min_entropy = min_entropy;
  rules->push_back(std::move(spec));
}

void AddSlack(std::vector<RuleSpec>* r) {
  Add(r, "slack-bot-token", "slack", "Slack bot token (xoxb-<team>-<bot>-<24+ alnum>, or legacy xoxb-<id>-<alnum>)",
      R"re(\bxoxb-[0-9]{8,13}-(?:[0-9]{8,13}-)?[A-Za-z0-9]{24,34}\b)re", {"xoxb-"});
  Add(r, "slack-user-token", "slack", "Slack user token (xoxp-<team>-<user>-<id>-<secret>)",
      R"re(\bxoxp-[0-9]{8,13}-[0-9]{8,13}-[0-9]{8,13}-[A-Za-z0-9]{28,34}\b)re", {"xoxp-"});
  Add(r, "slack-app-token", "slack", "Slack app-level token (xapp-1-A…-<id>-<64 hex>)",
      R"re(\bxapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,13}-[a-f0-9]{64}\b)re", {"xapp-"});
  Add(r, "slack-workspace-token", "slack", "Slack legacy workspace access token (xoxa-)",
      R"re(\bxoxa-(?:[0-9]-)?(?:[0-9]{6,13}-){0,3}[0-9A-Za-z]{20,64}\b)re", {"xoxa-"}, 0, 3.0);
  Add(r, "slack-refresh-token", "slack", "Slack workspace refresh token (xoxr-)",
      R"re(\bxoxr-(?:[0-9]-)?(?:[0-9]{6,13}-){0,3}[0-9A-Za-z]{20,64}\b)re", {"xoxr-"}, 0, 3.0);
  Add(r, "slack-legacy-token", "slack", "Slack legacy session or test token (xoxs-, xoxo-)",
      R"re(\bxox[os]-[0-9]{6,13}-[0-9]{6,13}-[0-9]{6,13}-[A-Fa-f0-9]{16,64}\b)re", {"xoxs-", "xoxo-"});
  Add(r, "slack-rotating-access-token", "slack",
      "Slack rotating (token rotation) or configuration access token (xoxe.xoxb-1-…, xoxe.xoxp-1-…)",
      R"re(\bxoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{140,180}\b)re", {"xoxe.xox"});
  Add(r, "slack-rotating-refresh-token", "slack",
      "Slack rotating or configuration refresh token (xoxe-1-…)",
      R"re(\bxoxe-[0-9]-[A-Za-z0-9]{140,180}\b)re", {"xoxe-"});
  Add(r, "slack-webhook-url", "slack", "Slack incoming webhook URL (hooks.slack.com/services/T…/B…/<secret>)",
      R"re((?:https?://)?hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{23,34}\b)re",
      {"hooks.slack.com"});
  Add(r, "slack-workflow-webhook-url", "slack",
      "Slack workflow or trigger webhook URL (hooks.slack.com/workflows/… or /triggers/…)",
      R"re((?:https?://)?hooks\.slack\.com/(?:workflows|triggers)/T[A-Z0-9]{6,12}(?:/[A-Za-z0-9]{6,40}){2,3}\b)re",
      {"hooks.slack.com"});
}

void AddPayments(std::vector<RuleSpec>* r) {
  Add(r, "stripe-live-secret-key", "stripe", "Stripe live secret API key (sk_live_)",
      R"re(\bsk_live_[0-9A-Za-z]{24,99}\b)re", {"sk_live_"});
  Add(r, "stripe-test-secret-key", "stripe", "Stripe test-mode secret API key (sk_test_)",
      R"re(\bsk_test_[0-9A-Za-z]{24,99}\b)re", {"sk_test_"});
  Add(r, "stripe-live-restricted-key", "stripe", "Stripe live restricted API key (rk_live_)",
      R"re(\brk_live_[0-9A-Za-z]{24,99}\b)re", {"rk_live_"});
  Add(r, "stripe-test-restricted-key", "stripe", "Stripe test-mode restricted API key (rk_test_)",
      R"re(\brk_test_[0-9A-Za-z]{24,99}\b)re", {"rk_test_"});
  Add(r, "stripe-webhook-secret", "stripe", "Stripe (and Svix-style) webhook signing secret (whsec_)",
      R"re(\b(whsec_[0-9A-Za-z+/]{32,88}={0,2})(?:[^A-Za-z0-9+/=]|$))re", {"whsec_"}, 1);
  Add(r, "square-access-token", "square", "Square access token (EAAA + 60 base64url)",
      R"re(\b(EAAA[A-Za-z0-9_-]{60}))re"s + kEnd, {"eaaa"}, 1);
  Add(r, "square-legacy-access-token", "square", "Square legacy personal access token (sq0atp-)",
      R"re(\b(sq0atp-[A-Za-z0-9_-]{22}))re"s + kEnd, {"sq0atp-"}, 1);
  Add(r, "square-oauth-secret", "square", "Square application OAuth secret (sq0csp-)",
      R"re(\b(sq0csp-[A-Za-z0-9_-]{43}))re"s + kEnd, {"sq0csp-"}, 1);
  Add(r, "paypal-braintree-access-token", "paypal",
      "PayPal / Braintree access token (access_token$production$<merchant>$<32 hex>)",
      R"re(\baccess_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}\b)re", {"access_token"});
  Add(r, "plaid-access-token", "plaid", "Plaid item access token (access-<env>-<uuid>)",
      R"re(\baccess-(?:sandbox|development|production)-)re"s + kUuid + R"re(\b)re",
      {"access-sandbox", "access-development", "access-production"});
  Add(r, "plaid-secret", "plaid", "Plaid client secret (30 hex) after a PLAID_SECRET-style key",
      R"re((?i:plaid[a-z0-9_.-]{0,20}secret))re"s + kAssign + R"re(([0-9a-f]{30})\b)re", {"plaid"}, 1, 3.0);
}

void AddMessaging(std::vector<RuleSpec>* r) {
  Add(r, "twilio-api-key-sid", "twilio", "Twilio API key SID (SK + 32 hex) in a Twilio context",
      R"re(\bSK[0-9a-fA-F]{32}\b)re", {"twilio"}, 0, 3.0);
  Add(r, "twilio-auth-token", "twilio",
      "Twilio auth token or API key secret (32 alnum) after a TWILIO_AUTH_TOKEN-style key",
      R"re((?i:twilio[a-z0-9_.-]{0,20}(?:token|secret)))re"s + kAssign + R"re(([A-Za-z0-9]{32})\b)re", {"twilio"}, 1,
      3.0);
  Add(r, "twilio-sid-auth-pair", "twilio",
      "Twilio auth token written right after its Account SID (curl -u AC…:token, Client(\"AC…\", \"token\"))",
      R"re(\bAC[0-9a-f]{32}(?::|["']?\s*,\s*["'])([0-9a-f]{32})\b)re", {"twilio"}, 1, 3.0);
  Add(r, "sendgrid-api-key", "sendgrid", "SendGrid API key (SG.<22>.<43>)",
      R"re(\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}))re"s + kEnd, {"sg."}, 1);
  Add(r, "mailgun-api-key", "mailgun", "Mailgun legacy API key (key- + 32 hex) in a Mailgun context",
      R"re(\bkey-[0-9a-f]{32}\b)re", {"mailgun"}, 0, 3.0);
  Add(r, "mailgun-private-api-key", "mailgun", "Mailgun private API key (32 hex - 8 hex - 8 hex)",
      R"re(\b[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}\b)re", {"mailgun"}, 0, 3.0);
  Add(r, "mailgun-webhook-signing-key", "mailgun", "Mailgun webhook signing key after a MAILGUN_…SIGNING_KEY key",
      R"re((?i:mailgun[a-z0-9_.-]{0,20}signing[_.-]?key))re"s + kAssign + R"re(([0-9a-f]{32})\b)re", {"mailgun"}, 1,
      3.0);
  Add(r, "mailchimp-api-key", "mailchimp", "Mailchimp API key (32 hex + -us<datacenter>)",
      R"re(\b[0-9a-f]{32}-us[0-9]{1,2}\b)re", {"-us"}, 0, 3.0);
  Add(r, "brevo-api-key", "brevo", "Brevo (Sendinblue) API key (xkeysib-)",
      R"re(\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b)re", {"xkeysib-"});
  Add(r, "brevo-smtp-key", "brevo", "Brevo (Sendinblue) SMTP key (xsmtpsib-)",
      R"re(\bxsmtpsib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b)re", {"xsmtpsib-"});
  Add(r, "postmark-server-token", "postmark", "Postmark server or account token (UUID) in a Postmark context",
      R"re((?i:x-postmark-(?:server|account)-token|postmark[a-z0-9_.-]{0,20}(?:token|key)))re"s + kAssign + "(" +
          kUuid + R"re()\b)re",
      {"postmark"}, 1, 3.0);
  Add(r, "telegram-bot-token", "telegram", "Telegram Bot API token (<bot id>:AA<33>)",
      R"re((?:\b|bot)([0-9]{8,10}:AA[0-9A-Za-z_-]{33}))re"s + kEnd, {"telegram", "bot"}, 1);
  Add(r, "discord-bot-token", "discord", "Discord bot token (<base64 id>.<timestamp>.<hmac>)",
      R"re(\b([MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}))re"s + kEnd,
      {"discord", "bot", "token"}, 1);
  Add(r, "discord-webhook-url", "discord", "Discord webhook URL (discord.com/api/webhooks/<id>/<token>)",
      R"re(((?:https?://)?(?:(?:canary|ptb)\.)?discord(?:app)?\.com/api(?:/v[0-9]{1,2})?/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}))re"s +
          kEnd,
      {"discord"}, 1);
  Add(r, "intercom-access-token", "intercom", "Intercom access token (base64 of \"tok:…\", dG9rO…)",
      R"re(\b(dG9rO[A-Za-z0-9+/]{50,80}={0,2})(?:[^A-Za-z0-9+/=]|$))re", {"dg9ro"}, 1);
  Add(r, "zendesk-api-token", "zendesk", "Zendesk API token (40 alnum) after a Zendesk key or in user/token:…",
      R"re((?:(?i:zendesk[a-z0-9_.-]{0,20}token))re"s + kAssign + R"re(|/token:)([A-Za-z0-9]{40})\b)re", {"zendesk"},
      1, 3.5);
}

void AddCommerceAndProductivity(std::vector<RuleSpec>* r) {
  Add(r, "shopify-access-token", "shopify", "Shopify Admin API access token (shpat_)",
      R"re(\bshpat_[a-fA-F0-9]{32}\b)re", {"shpat_"});
  Add(r, "shopify-custom-app-token", "shopify", "Shopify custom app access token (shpca_)",
      R"re(\bshpca_[a-fA-F0-9]{32}\b)re", {"shpca_"});
  Add(r, "shopify-private-app-token", "shopify", "Shopify private app password (shppa_)",
      R"re(\bshppa_[a-fA-F0-9]{32}\b)re", {"shppa_"});
  Add(r, "shopify-shared-secret", "shopify", "Shopify app shared secret (shpss_)",
      R"re(\bshpss_[a-fA-F0-9]{32}\b)re", {"shpss_"});
  Add(r, "hubspot-private-app-token", "hubspot", "HubSpot private app access token (pat-na1-<uuid>)",
      R"re(\bpat-(?:na|eu|ap)[0-9]-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)re",
      {"pat-na", "pat-eu", "pat-ap"});
  Add(r, "okta-api-token", "okta", "Okta API token (00 + 40) after an Okta key or SSWS",
      R"re((?:(?i:okta[a-z0-9_.-]{0,20}(?:token|key)))re"s + kAssign + R"re(|SSWS\s+)(00[A-Za-z0-9_-]{40}))re"s + kEnd,
      {"okta", "ssws"}, 1, 3.0);
  Add(r, "asana-personal-access-token", "asana", "Asana personal access token (1/<gid>:<32 hex>, 2/<gid>/<gid>:<32 hex>)",
      R"re(\b([12]/[0-9]{10,20}(?:/[0-9]{10,20})?:[0-9a-f]{32})\b)re", {"asana"}, 1);
  Add(r, "dropbox-short-lived-token", "dropbox", "Dropbox short-lived access token (sl. + 130+)",
      R"re(\b(sl\.(?:u\.)?[A-Za-z0-9_-]{130,}))re"s + kEnd, {"sl."}, 1);
  Add(r, "figma-personal-access-token", "figma", "Figma personal access token (figd_)",
      R"re(\b(figd_[A-Za-z0-9_-]{40,}))re"s + kEnd, {"figd_"}, 1);
  Add(r, "contentful-personal-access-token", "contentful", "Contentful personal access token (CFPAT-)",
      R"re(\b(CFPAT-[A-Za-z0-9_-]{43}))re"s + kEnd, {"cfpat-"}, 1);
  Add(r, "mapbox-secret-token", "mapbox", "Mapbox secret access token (sk.eyJ…); pk. tokens are public",
      R"re(\b(sk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}))re"s + kEnd, {"sk.eyj"}, 1);
  Add(r, "typeform-personal-access-token", "typeform", "Typeform personal access token (tfp_ + 59)",
      R"re(\b(tfp_[A-Za-z0-9_=-]{59})(?:[^A-Za-z0-9_=-]|$))re", {"tfp_"}, 1);
  Add(r, "frameio-api-token", "frameio", "Frame.io developer token (fio-u-)",
      R"re(\b(fio-u-[A-Za-z0-9_=-]{64})(?:[^A-Za-z0-9_=-]|$))re", {"fio-u-"}, 1);
  Add(r, "segment-public-api-token", "segment", "Segment Public API token (sgp_ + 64 alnum)",
      R"re(\bsgp_[A-Za-z0-9]{64}\b)re", {"sgp_"});
  Add(r, "algolia-admin-api-key", "algolia", "Algolia admin/write API key (32 hex) after an Algolia key name",
      R"re((?i:algolia[_.-]?(?:admin|write)?[_.-]?(?:api[_.-]?)?key))re"s + kAssign + R"re(([0-9a-f]{32})\b)re",
      {"algolia"}, 1, 3.0);
  Add(r, "lob-api-key", "lob", "Lob secret API key (live_/test_ + 35 hex); publishable keys are live_pub_/test_pub_",
      R"re(\b(?:live|test)_[0-9a-f]{35}\b)re", {"lob"}, 0, 3.0);
}

void AddDeveloperServices(std::vector<RuleSpec>* r) {
  Add(r, "rubygems-api-key", "rubygems", "RubyGems API key (rubygems_ + 48 hex)",
      R"re(\brubygems_[a-f0-9]{48}\b)re", {"rubygems_"});
  Add(r, "nuget-api-key", "nuget", "NuGet API key (oy2 + 43 lower-case alnum)", R"re(\boy2[a-z0-9]{43}\b)re",
      {"oy2"}, 0, 3.0);
  Add(r, "clojars-deploy-token", "clojars", "Clojars deploy token (CLOJARS_ + 60)",
      R"re(\bCLOJARS_[a-z0-9]{60}\b)re", {"clojars_"});
  Add(r, "circleci-personal-token", "circleci", "CircleCI personal or project API token (CCIPAT_, CCIPRJ_)",
      R"re(\bCCIP(?:AT|RJ)_[A-Za-z0-9]{22}_[a-f0-9]{40}\b)re", {"ccipat_", "cciprj_"});
  Add(r, "jfrog-api-key", "jfrog", "JFrog Artifactory API key (AKCp + 69)", R"re(\bAKCp[A-Za-z0-9]{69}\b)re",
      {"akcp"});
  Add(r, "snyk-api-token", "snyk", "Snyk API token (UUID) after a SNYK_TOKEN key or `snyk auth`",
      R"re((?:(?i:snyk[a-z0-9_.-]{0,20}(?:token|key)))re"s + kAssign + R"re(|snyk\s+auth\s+|snyk\s+config\s+set\s+api=)()re" +
          kUuid + R"re()\b)re",
      {"snyk"}, 1, 3.0);
  Add(r, "codecov-upload-token", "codecov", "Codecov upload token (UUID) after a CODECOV_TOKEN key",
      R"re((?i:codecov[a-z0-9_.-]{0,10}token))re"s + kAssign + "(" + kUuid + R"re()\b)re", {"codecov"}, 1, 3.0);
  Add(r, "travis-api-token", "travis", "Travis CI API token (22) after a TRAVIS…TOKEN key",
      R"re((?i:travis[a-z0-9_.-]{0,20}token))re"s + kAssign + R"re(([A-Za-z0-9_-]{22}))re"s + kEnd, {"travis"}, 1, 3.0);
  Add(r, "twitch-api-token", "twitch", "Twitch client secret or OAuth token (30 lower alnum) after a Twitch key",
      R"re((?i:twitch[a-z0-9_.-]{0,20}(?:secret|token)))re"s + kAssign + R"re((?:oauth:)?([a-z0-9]{30})\b)re",
      {"twitch"}, 1, 3.0);
  Add(r, "zoom-client-secret", "zoom", "Zoom OAuth/SDK client secret (32 alnum) after a ZOOM…SECRET key",
      R"re((?i:zoom[a-z0-9_.-]{0,20}secret))re"s + kAssign + R"re(([A-Za-z0-9]{32})\b)re", {"zoom"}, 1, 3.0);
  Add(r, "sumologic-access-key", "sumologic", "Sumo Logic access key (64 alnum) after a SUMO…ACCESS_KEY key",
      R"re((?i:sumo[a-z0-9_.-]{0,20}access[_.-]?key))re"s + kAssign + R"re(([A-Za-z0-9]{64})\b)re", {"sumo"}, 1, 3.5);
}

}  // namespace

void AddSaasRules(std::vector<RuleSpec>* rules) {
  AddSlack(rules);
  AddPayments(rules);
  AddMessaging(rules);
  AddCommerceAndProductivity(rules);
  AddDeveloperServices(rules);
}

}  // namespace tsync::redact
