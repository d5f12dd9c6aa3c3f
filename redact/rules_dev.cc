// Built-in rules: source hosting (GitHub, GitLab), package registries (npm,
// PyPI, Docker Hub), AI providers (OpenAI, Anthropic, Hugging Face,
// Replicate), developer SaaS (Postman, Linear, Notion, Airtable, Atlassian),
// JWTs and private keys.
//
// Token-shaped rules use the documented prefix, charset and length and are
// bounded on both sides, so a longer identifier never partially matches.
// For charsets that include '-' (where \b does not work after the token) the
// pattern ends with (?:[^charset]|$) and the token is capture group 1.
#include <string>

#include "redact/catalogue.h"

namespace tsync::redact {

namespace {

// End of a base64url token: the next character is not part of it.
constexpr const char* kEndB64Url = R"((?:[^A-Za-z0-9_-]|$))";
// A line break in decoded text, or a literal "\n" left by double encoding,
// with the indentation around it (a key in an indented YAML block).
constexpr const char* kNl = R"((?:[ \t]*(?:\r?\n|\\r?\\n)[ \t]*))";
// Body of a PEM block: base64, whitespace, literal \n, and the
// "Proc-Type: 4,ENCRYPTED" / "DEK-Info: AES-128-CBC,<hex>" headers of
// legacy encrypted keys. It must contain a run of 20 base64 characters so
// prose between a BEGIN and an END line never matches.
constexpr const char* kPemBody = R"([A-Za-z0-9+/=\s\\:,-]*?[A-Za-z0-9+/]{20}[A-Za-z0-9+/=\s\\:,-]*?)";

RuleSpec Token(std::string id, std::string family, std::string description, std::string pattern,
               std::vector<std::string> keywords, int secret_group = 0) {
  RuleSpec r;
  r.id = std::move(id);
  r.family = std::move(family);
  r.description = std::move(description);
  r.pattern = std::move(pattern);
  r.keywords = std::move(keywords);
  r.secret_group = secret_group;
  return r;
}

// A token of `prefix` followed by `body` (a regex over [A-Za-z0-9_-]),
// bounded on both sides by characters that cannot be part of it (so
// "risk-sk-admin-…" or "x_glpat-…" do not match); the token is group 1.
std::string B64UrlToken(const std::string& prefix, const std::string& body) {
  return R"((?:^|[^A-Za-z0-9_-])()" + prefix + body + ")" + kEndB64Url;
}

void AddGitHub(std::vector<RuleSpec>* rules) {
  rules->push_back(Token("github-pat", "github", "GitHub personal access token (classic), ghp_ + 36 alphanumerics",
                         R"(\bghp_[A-Za-z0-9]{36}\b)", {"ghp_"}));
  rules->push_back(Token("github-oauth-token", "github", "GitHub OAuth access token, gho_ + 36 alphanumerics",
                         R"(\bgho_[A-Za-z0-9]{36}\b)", {"gho_"}));
  rules->push_back(Token("github-user-to-server-token", "github",
                         "GitHub App user-to-server token, ghu_ + 36 alphanumerics", R"(\bghu_[A-Za-z0-9]{36}\b)",
                         {"ghu_"}));
  rules->push_back(Token("github-app-installation-token", "github",
                         "GitHub App installation (server-to-server) token, ghs_ + 36 alphanumerics",
                         R"(\bghs_[A-Za-z0-9]{36}\b)", {"ghs_"}));
  rules->push_back(Token("github-refresh-token", "github", "GitHub App refresh token, ghr_ + 36 (or 76) alphanumerics",
                         R"(\bghr_[A-Za-z0-9]{36}(?:[A-Za-z0-9]{40})?\b)", {"ghr_"}));
  rules->push_back(Token("github-fine-grained-pat", "github",
                         "GitHub fine-grained personal access token, github_pat_ + 22 + '_' + 59 alphanumerics (whole "
                         "token)",
                         R"(\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b)", {"github_pat_"}));
  rules->push_back(Token("github-app-installation-token-v1", "github",
                         "Legacy GitHub App installation token v1.<40 hex>, in a GitHub assignment or x-access-token URL",
                         R"((?i)(?:(?:github|\bgh_)[a-z0-9_.-]{0,30}["']?[ \t]*[:=][ \t]*["']?|x-access-token:)(v1\.[0-9a-f]{40})\b)",
                         {"github", "gh_", "x-access-token"}, 1));
}

void AddGitLab(std::vector<RuleSpec>* rules) {
  // Newer (routable) GitLab tokens are longer and may carry dot-separated
  // parts: glpat-<payload>.01.<suffix>.
  const std::string routable = R"([A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+){0,3})";
  rules->push_back(Token("gitlab-pat", "gitlab", "GitLab personal/project/group access token, glpat-",
                         B64UrlToken("glpat-", routable), {"glpat-"}, 1));
  rules->push_back(Token("gitlab-deploy-token", "gitlab", "GitLab deploy token, gldt-",
                         B64UrlToken("gldt-", routable), {"gldt-"}, 1));
  rules->push_back(Token("gitlab-runner-auth-token", "gitlab", "GitLab runner authentication token, glrt-",
                         B64UrlToken("glrt-", routable), {"glrt-"}, 1));
  rules->push_back(Token("gitlab-runner-registration-token", "gitlab",
                         "GitLab instance/group runner registration token, glrtr-", B64UrlToken("glrtr-", routable),
                         {"glrtr-"}, 1));
  rules->push_back(Token("gitlab-scim-token", "gitlab", "GitLab SCIM OAuth access token, glsoat-",
                         B64UrlToken("glsoat-", routable), {"glsoat-"}, 1));
  rules->push_back(Token("gitlab-ci-job-token", "gitlab", "GitLab CI/CD job token, glcbt-<digits>_<20+ chars>",
                         B64UrlToken("glcbt-", R"((?:[0-9A-Za-z]{1,5}_)?)" + routable), {"glcbt-"}, 1));
  rules->push_back(Token("gitlab-pipeline-trigger-token", "gitlab", "GitLab pipeline trigger token, glptt- + 40 hex",
                         R"(\bglptt-[0-9a-f]{40}\b)", {"glptt-"}));
  rules->push_back(Token("gitlab-feed-token", "gitlab", "GitLab feed token, glft-", B64UrlToken("glft-", routable),
                         {"glft-"}, 1));
  rules->push_back(Token("gitlab-incoming-mail-token", "gitlab", "GitLab incoming mail token, glimt- + 25 chars",
                         B64UrlToken("glimt-", "[A-Za-z0-9_-]{25}"), {"glimt-"}, 1));
  rules->push_back(Token("gitlab-agent-token", "gitlab", "GitLab agent for Kubernetes token, glagent- + 50+ chars",
                         B64UrlToken("glagent-", "[A-Za-z0-9_-]{50,}"), {"glagent-"}, 1));
  rules->push_back(Token("gitlab-oauth-app-secret", "gitlab", "GitLab OAuth application secret, gloas- + 64 chars",
                         B64UrlToken("gloas-", "[A-Za-z0-9_-]{64}"), {"gloas-"}, 1));
  rules->push_back(Token("gitlab-runner-registration-token-legacy", "gitlab",
                         "GitLab legacy runner registration token, GR1348941 + 20 chars",
                         B64UrlToken("GR1348941", "[A-Za-z0-9_-]{20}"), {"gr1348941"}, 1));
}

void AddRegistries(std::vector<RuleSpec>* rules) {
  rules->push_back(Token("npm-access-token", "npm", "npm access token, npm_ + 36 alphanumerics",
                         R"(\bnpm_[A-Za-z0-9]{36}\b)", {"npm_"}));
  {
    RuleSpec r = Token("npm-npmrc-auth-token", "npm", "_authToken value in an .npmrc (any registry)",
                       R"((?:^|[\s'"/:])_authToken[ \t]*=[ \t]*["']?([^\s"'#;]{8,}))", {"_authtoken"}, 1);
    r.min_entropy = 3.0;
    r.shapeless = true;
    rules->push_back(r);
  }
  {
    RuleSpec r = Token("npm-npmrc-auth", "npm", "_auth / _password (base64) value in an .npmrc",
                       R"((?m)(?:^[ \t]*|/:)_(?:auth|password)[ \t]*=[ \t]*["']?([A-Za-z0-9+/]{8,}={0,2})(?:[^A-Za-z0-9+/=]|$))",
                       {"_auth", "_password"}, 1);
    r.min_entropy = 3.0;
    rules->push_back(r);
  }
  rules->push_back(Token("pypi-api-token", "pypi", "PyPI / TestPyPI API token, pypi-AgEIcHlwaS5vcmc… macaroon",
                         B64UrlToken("pypi-AgE", R"((?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})"),
                         {"pypi-age"}, 1));
  {
    RuleSpec r = Token(
        "pypi-token-password", "pypi",
        "Password given with username __token__ (.pypirc, twine -u __token__ -p, TWINE_PASSWORD)",
        R"((?i)__token__["']?[^\[]{0,200}?(?:(?:\b|_)password[ \t]*[:=][ \t]*|(?:^|\s)-p[ \t]+)["']?([^\s'"]{8,}))",
        {"__token__", "pypi"}, 1);
    r.min_entropy = 3.0;
    r.shapeless = true;
    rules->push_back(r);
  }
  rules->push_back(Token("docker-hub-pat", "docker", "Docker Hub personal access token, dckr_pat_ + 27 chars",
                         B64UrlToken("dckr_pat_", "[A-Za-z0-9_-]{27}"), {"dckr_pat_"}, 1));
  {
    RuleSpec r = Token("docker-config-auth", "docker",
                       "\"auth\" (base64 user:password) in a docker/podman config.json \"auths\" map",
                       R"re("auth"[ \t]*:[ \t]*"([A-Za-z0-9+/]{8,}={0,2})")re", {"auths"}, 1);
    r.min_entropy = 3.0;
    rules->push_back(r);
  }
}

void AddAi(std::vector<RuleSpec>* rules) {
  rules->push_back(Token("openai-project-key", "openai", "OpenAI project API key, sk-proj-",
                         B64UrlToken("sk-proj-", "[A-Za-z0-9_-]{40,}"), {"sk-proj-"}, 1));
  rules->push_back(Token("openai-service-account-key", "openai", "OpenAI service account key, sk-svcacct-",
                         B64UrlToken("sk-svcacct-", "[A-Za-z0-9_-]{40,}"), {"sk-svcacct-"}, 1));
  rules->push_back(Token("openai-admin-key", "openai", "OpenAI admin API key, sk-admin-",
                         B64UrlToken("sk-admin-", "[A-Za-z0-9_-]{40,}"), {"sk-admin-"}, 1));
  rules->push_back(Token("openai-legacy-key", "openai", "OpenAI legacy user API key, sk-<20>T3BlbkFJ<20>",
                         R"(\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b)", {"t3blbkfj"}));
  rules->push_back(Token("anthropic-api-key", "anthropic", "Anthropic API key, sk-ant-api03-",
                         B64UrlToken("sk-ant-api0[0-9]-", "[A-Za-z0-9_-]{80,}"), {"sk-ant-api"}, 1));
  rules->push_back(Token("anthropic-admin-key", "anthropic", "Anthropic admin API key, sk-ant-admin01-",
                         B64UrlToken("sk-ant-admin0[0-9]-", "[A-Za-z0-9_-]{80,}"), {"sk-ant-admin"}, 1));
  rules->push_back(Token("anthropic-oauth-access-token", "anthropic", "Anthropic OAuth access token, sk-ant-oat01-",
                         B64UrlToken("sk-ant-oat0[0-9]-", "[A-Za-z0-9_-]{40,}"), {"sk-ant-oat"}, 1));
  rules->push_back(Token("anthropic-oauth-refresh-token", "anthropic", "Anthropic OAuth refresh token, sk-ant-ort01-",
                         B64UrlToken("sk-ant-ort0[0-9]-", "[A-Za-z0-9_-]{40,}"), {"sk-ant-ort"}, 1));
  rules->push_back(Token("anthropic-session-key", "anthropic", "claude.ai session key, sk-ant-sid01-",
                         B64UrlToken("sk-ant-sid0[0-9]-", "[A-Za-z0-9_-]{40,}"), {"sk-ant-sid"}, 1));
  rules->push_back(Token("huggingface-token", "huggingface", "Hugging Face user access token, hf_ + 34 letters",
                         R"(\bhf_[A-Za-z]{34}\b)", {"hf_"}));
  rules->push_back(Token("huggingface-org-token", "huggingface", "Hugging Face organization API token, api_org_ + 34 letters",
                         R"(\bapi_org_[A-Za-z]{34}\b)", {"api_org_"}));
  rules->push_back(Token("replicate-api-token", "replicate", "Replicate API token, r8_ + 37 alphanumerics",
                         R"(\br8_[A-Za-z0-9]{37}\b)", {"r8_"}));
}

void AddDevSaas(std::vector<RuleSpec>* rules) {
  rules->push_back(Token("postman-api-key", "postman", "Postman API key, PMAK-<24 hex>-<34 hex>",
                         R"(\bPMAK-[0-9a-f]{24}-[0-9a-f]{34}\b)", {"pmak-"}));
  rules->push_back(Token("linear-api-key", "linear", "Linear personal API key, lin_api_ + 40 alphanumerics",
                         R"(\blin_api_[A-Za-z0-9]{40}\b)", {"lin_api_"}));
  rules->push_back(Token("linear-oauth-token", "linear", "Linear OAuth access token, lin_oauth_ + 64 hex",
                         R"(\blin_oauth_[0-9a-f]{64}\b)", {"lin_oauth_"}));
  rules->push_back(Token("notion-integration-secret", "notion",
                         "Notion internal integration secret (legacy), secret_ + exactly 43 alphanumerics",
                         R"(\bsecret_[A-Za-z0-9]{43}\b)", {"secret_"}));
  rules->push_back(Token("notion-token", "notion", "Notion integration token, ntn_ + 11 digits + 35 alphanumerics",
                         R"(\bntn_[0-9]{11}[A-Za-z0-9]{35}\b)", {"ntn_"}));
  // "pat" alone occurs in every "path" and "patch": the token is only
  // searched for where Airtable is named (AIRTABLE_* variables, api.airtable.com).
  rules->push_back(Token("airtable-pat", "airtable", "Airtable personal access token, pat<14>.<64 hex>",
                         R"(\bpat[A-Za-z0-9]{14}\.[0-9a-f]{64}\b)", {"airtable"}));
  rules->push_back(Token("airtable-api-key-legacy", "airtable",
                         "Airtable legacy API key, key + 14 alphanumerics, within 80 characters after 'airtable'",
                         R"((?s)(?i:airtable).{0,80}?\b(key[A-Za-z0-9]{14})\b)", {"airtable"}, 1));
  rules->push_back(Token("atlassian-api-token", "atlassian", "Atlassian (Jira/Confluence Cloud) API token, ATATT3xFfGF0…",
                         R"(\b(ATATT3xFfGF0[A-Za-z0-9_=-]{100,})(?:[^A-Za-z0-9_=-]|$))", {"atatt3xffgf0"}, 1));
  rules->push_back(Token("atlassian-cloud-token", "atlassian", "Atlassian Cloud token, ATCTT3xFfGF0…",
                         R"(\b(ATCTT3xFfGF0[A-Za-z0-9_=-]{100,})(?:[^A-Za-z0-9_=-]|$))", {"atctt3xffgf0"}, 1));
  {
    RuleSpec r = Token("atlassian-api-token-legacy", "atlassian",
                       "Legacy 24-character Jira/Confluence API token assigned to a JIRA_/CONFLUENCE_…TOKEN name",
                       R"((?i)(?:jira|confluence|atlassian)[a-z0-9_.-]*?(?:api)?[_.-]?token["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9]{24})\b)",
                       {"jira", "confluence", "atlassian"}, 1);
    r.min_entropy = 3.0;
    rules->push_back(r);
  }
}

void AddJwtAndKeys(std::vector<RuleSpec>* rules) {
  rules->push_back(Token("jwt", "jwt", "JSON Web Token: eyJ header . eyJ payload . signature (whole token)",
                         R"(\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})(?:[^A-Za-z0-9_-]|$))", {"eyj"},
                         1));
  struct Pem {
    const char* id;
    const char* label;  // between "BEGIN " and "PRIVATE KEY"
    const char* description;
  };
  for (const Pem& p : {Pem{"private-key-rsa", "RSA ", "PEM RSA private key block (PKCS#1)"},
                       Pem{"private-key-ec", "EC ", "PEM EC private key block (SEC 1)"},
                       Pem{"private-key-dsa", "DSA ", "PEM DSA private key block"},
                       Pem{"private-key-openssh", "OPENSSH ", "OpenSSH private key block"},
                       Pem{"private-key-encrypted", "ENCRYPTED ", "PEM encrypted PKCS#8 private key block"},
                       Pem{"private-key-pkcs8", "", "PEM PKCS#8 private key block"}}) {
    const std::string label = p.label;
    rules->push_back(Token(p.id, "private-key", std::string(p.description) + ", BEGIN through END line",
                           "-----BEGIN " + label + "PRIVATE KEY-----" + kPemBody + "-----END " + label +
                               "PRIVATE KEY-----",
                           {"-----begin"}));
  }
  rules->push_back(Token("private-key-pgp", "private-key", "ASCII-armored PGP private key block, BEGIN through END line",
                         std::string("-----BEGIN PGP PRIVATE KEY BLOCK-----") +
                             R"([A-Za-z0-9+/=\s\\:,.()@'_-]*?[A-Za-z0-9+/]{20}[A-Za-z0-9+/=\s\\:,.()@'_-]*?)" +
                             "-----END PGP PRIVATE KEY BLOCK-----",
                         {"-----begin"}));
  // A BEGIN line and base64 lines that are not followed by an END line
  // (a truncated paste). The block must be followed by the end of the
  // text, a closing quote/bracket on the same line, a blank line, or a line
  // with spaces or non-base64 characters (prose, "host: x", a code fence);
  // a complete block (next line "-----END") never matches.
  const std::string nl = kNl;
  const std::string truncated =
      "(-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"  //
      "(?:" + nl + "[A-Za-z-]+:[^\\r\\n\\\\]{1,200})*"  // Proc-Type: / DEK-Info: / Version: headers
      "(?:" + nl + ")+"
      "[A-Za-z0-9+/=]+(?:" + nl + "[A-Za-z0-9+/=]+)*)"
      "(?:[ \\t]*$|[ \\t]*[\"'`,;)\\]}]|" + nl + "[ \\t]*$|" + nl + nl + "|" + nl +
      "[A-Za-z0-9+/=]+[ \\t]+[^\\s-]|" + nl + "[A-Za-z0-9+/=]*[^A-Za-z0-9+/=\\s\\\\-]|\\\\[\"'])";
  rules->push_back(Token("private-key-truncated", "private-key",
                         "Private key BEGIN line and base64 body with no END line (truncated paste)", truncated,
                         {"-----begin"}, 1));
  rules->push_back(Token("private-key-putty", "private-key", "Private-Lines section of a PuTTY .ppk key file",
                         "(Private-Lines:[ \\t]*[0-9]+(?:" + nl + "[A-Za-z0-9+/=]+)+)" + nl + "Private-MAC:",
                         {"private-lines"}, 1));
  // Key blocks run to many KiB (an RSA-8192 or PGP key) and a JWT to a few:
  // the redactor must search that far past the keyword.
  for (RuleSpec& r : *rules) {
    if (r.family == "private-key") r.max_match_bytes = 1u << 20;
    if (r.family == "jwt") r.max_match_bytes = 64u << 10;
  }
}

}  // namespace

void AddDevRules(std::vector<RuleSpec>* rules) {
  AddGitHub(rules);
  AddGitLab(rules);
  AddRegistries(rules);
  AddAi(rules);
  AddDevSaas(rules);
  AddJwtAndKeys(rules);
}

}  // namespace tsync::redact
