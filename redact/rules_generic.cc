// Generic rules: secrets without a provider-specific shape — HTTP auth
// headers, credentials in URLs and command lines, and `key = value`
// assignments in prose, shells and config files.
//
// These rules recognise a secret by its *context* (a key name, a header, a
// flag), so precision comes from the pattern and from CompiledRule's guards:
// IsPlaceholder always, `shapeless` (LooksLikeCode) for values that may be
// code, and an entropy floor for keys that often hold non-secrets.
//
// Conventions used by the patterns below (RE2: no lookaround):
// * Values stop at whitespace, quotes and backticks. `&`, `;` and `,` may
//   occur inside a value but not end it, so `pass=x&next=/` or
//   `Password=x;Database=y` over-redact up to the next space — a leak is
//   worse than a lost query parameter.
// * A value may not *start* like a path (`/`, `.`, `~`), a placeholder or
//   template (`<`, `{`, `(`, `[`), a mask (`*`) or another flag (`-`).
// * "Deny branches": `(?:DENY|(VALUE))`. RE2 picks the leftmost-first
//   alternative, so when the text at the value position looks like code
//   (`getpass()`, `os.environ["X"]`, `await x`) or a kebab-case name, the
//   deny branch matches, the secret group stays empty, and FindAll reports
//   nothing for that match.
#include <string>

#include "redact/catalogue.h"

namespace tsync::redact {

namespace {

// --- Key names (all patterns run under (?i); the keys themselves are in
// AddGenericRules) ---------------------------------------------------------

// Optional suffixes that still name the secret itself: DB_PASSWORD_2,
// password_confirmation, API_KEY_B64. Anything else (password_length,
// token_type, api_key_id, max_tokens) is a different key.
constexpr char kSuffix[] = R"((?:[_.-]?(?:[0-9]{1,2}|value|raw|b64|base64|hex))?)";
constexpr char kPasswordSuffix[] = R"((?:[_.-]?(?:[0-9]{1,2}|confirm|confirmation|plain|plaintext|value|raw))?)";

// --- Values -------------------------------------------------------------------

// Between the key and the value: `=`, `:=`, `=>` (optionally spaced, as in
// INI/TOML and code) or `:` followed by a quote (JSON, quoted YAML). An
// unquoted `: value` is YAML or prose and handled by the config-* rules,
// which need the value to end the line ("password: must be 8 characters").
// `KEY= word` (space after `=` only) is prose, not an assignment.
constexpr char kAssignSep[] =
    R"(["']?(?::?=>?["']?|[ \t]*:?=>?[ \t]*["']|[ \t]+:?=>?[ \t]+|[ \t]*:[ \t]*["']))";

constexpr char kFirst[] = R"([^\s"'`&;,/.~=<{(\[*•●-])";  // not a path, template, mask or flag
constexpr char kBody[] = R"([^\s"'`])";
constexpr char kLast[] = R"([^\s"'`&;,.:(\[{)}\]])";   // trailing punctuation is prose
// What may follow an unquoted value (a closing quote ends a quoted one).
constexpr char kTerm[] = R"(\.?(?:["'\s)}\]&;,]|$))";

// Code where a value should be: calls and subscripts (getpass(),
// os.environ["X"], request.form['password'], env::var("X")), optional
// chaining (session?.access_token, user!.token) and keywords that start an
// expression.
constexpr char kDenyCode[] =
    R"((?:[a-z_$][a-z0-9_.$:]*[(\[]|[a-z_$][a-z0-9_.$]*[?!]\.|(?:new|await|lambda|function)\s))";
// Lower-case kebab-case names (task-management-service, my-app-secret):
// resource names, not secrets. Case-sensitive.
constexpr char kDenyKebab[] = R"((?-i:[a-z]+(?:-[a-z]+)+))";
// A password key whose value is just another name for "password".
constexpr char kDenyPasswordWord[] = R"((?:pass|passwd|pwd))";

// `KEY = value` in any syntax.
std::string Assignment(const std::string& key, const std::string& deny, const std::string& value) {
  return R"((?i)\b(?:)" + key + ")" + kAssignSep + "(?:" + deny + "|(" + value + ")" + kTerm + ")";
}

// `key: value` that ends the line (YAML, nsswitch-like files, "Password: x"
// in prose), with an optional trailing comment or full stop.
constexpr char kYamlBody[] = R"([^\s"'`])";
constexpr char kYamlLast[] = R"([^\s"'`,;:.(\[{)}\]])";
constexpr char kLineEnd[] = R"(\.?[ \t]*(?:#[^\n]*)?(?:\r?\n|$))";
std::string ColonLine(const std::string& key, const std::string& deny, const std::string& min_body) {
  return R"((?i)\b(?:)" + key + R"()["']?[ \t]*:[ \t]+(?:)" + deny + "(?:" + kLineEnd + ")|(" + kFirst + kYamlBody +
         min_body + kYamlLast + ")" + kLineEnd + ")";
}

std::vector<std::string> Concat(std::initializer_list<std::vector<std::string>> lists) {
  std::vector<std::string> out;
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

}  // namespace

void AddGenericRules(std::vector<RuleSpec>* rules) {
  // --- Key names (all patterns run under (?i)) ---
  // Any prefix (DB_, spring.datasource., adminPassword) for the long words;
  // the short ones (pass, pwd) only as a whole word or after a separator, so
  // "bypass" and "compass" are not keys.
  const std::string password_key =
      std::string(R"((?:[a-z0-9_.-]*(?:password|passwd|passphrase)|(?:[a-z0-9_.-]*[_.-])?(?:pass|pwd)))") +
      kPasswordSuffix;
  // secret, client_secret, SECRET_KEY, AWS_SECRET_ACCESS_KEY, secret_key_base, credentials.
  const std::string secret_key =
      std::string(R"([a-z0-9_.-]*(?:secret(?:[_.-]?(?:access[_.-]?)?key(?:[_.-]?base)?)?|credentials?))") + kSuffix;
  // token, auth_token, GITHUB_TOKEN, refreshToken (not tokens, tokenizer, token_type).
  const std::string token_key = std::string(R"([a-z0-9_.-]*token)") + kSuffix;
  // api_key, apiKey, x-api-key, ACCESS_KEY, private_key (not api_key_id).
  const std::string api_key_key = std::string(R"([a-z0-9_.-]*(?:api|access|private)[_.-]?key)") + kSuffix;

  // Not bare "pass": it hits every "passed"/"passes" of test output.
  const std::vector<std::string> password_words = {"passw", "passp", "pwd", "_pass", "-pass", "pass=", "pass:"};
  const std::vector<std::string> secret_words = {"secret", "credential"};
  const std::vector<std::string> token_words = {"token"};
  const std::vector<std::string> api_key_words = {"api_key",     "apikey",     "api-key",    "api.key",
                                                 "access_key",  "accesskey",  "access-key", "access.key",
                                                 "private_key", "privatekey", "private-key", "private.key"};

  // A password: >= 3 characters. A token-like value: >= 12.
  const std::string password_value = std::string(kFirst) + kBody + "+" + kLast;
  const std::string token_value = std::string(kFirst) + kBody + "{10,}" + kLast;

  const std::string deny_code_or_kebab = std::string("(?:") + kDenyCode + "|" + kDenyKebab + kTerm + ")";
  const std::string deny_password = std::string("(?:") + kDenyCode + "|" + kDenyPasswordWord + kTerm + ")";

  // ---------------------------------------------------------------- http-auth
  // The token after "Bearer" wherever it appears: headers, curl -H, JSON,
  // code. It must contain a digit (prose: "Bearer authentication") and the
  // entropy floor drops short or repetitive words. `${TOKEN}`, `{tok}`,
  // `<token>` and `$TOKEN` cannot start a token.
  rules->push_back({"http-bearer-token", "http-auth", "Bearer token in an Authorization header or similar",
                    R"((?i)\bbearer[ \t]+([a-z0-9._~+/-]*[0-9][a-z0-9._~+/-]*=*))", {"bearer"}, 1, 3.0, false});
  // Basic credentials: standard base64 (length a multiple of 4) after an
  // Authorization or Proxy-Authorization header name.
  rules->push_back({"http-basic-auth", "http-auth", "Base64 credentials in an HTTP Basic Authorization header",
                    R"((?i)\bauthorization["']?[ \t]*[:=][ \t]*["']?basic[ \t]+)"
                    R"(((?:[a-z0-9+/]{4}){2,}(?:[a-z0-9+/]{2}==|[a-z0-9+/]{3}=)?)(?:[^a-z0-9+/=]|$))",
                    {"authorization"}, 1, 3.0, false});
  // Authorization header with another scheme (token, Bot, ApiKey, SSWS, …)
  // or none. Bearer and Basic are the rules above: their scheme word is too
  // short to be taken for the token here.
  rules->push_back({"http-authorization-token", "http-auth",
                    "Token in an Authorization header with a non-Bearer scheme or none",
                    R"((?i)\bauthorization["']?[ \t]*[:=][ \t]*["']?)"
                    R"((?:(?:token|bot|apikey|api-key|key|sso-key|ssws|pat|oauth)[ \t]+)?([a-z0-9._~+/=-]{20,}))",
                    {"authorization"}, 1, 3.0, true});
  // X-API-Key: …, api-key: …, X-Auth-Token: … headers (and as JSON keys).
  rules->push_back({"http-api-key-header", "http-auth", "Value of an X-API-Key, api-key or X-Auth-Token header",
                    R"((?i)\b(?:x-)?(?:api-?key|auth-token|access-token|api-token)["']?[ \t]*:[ \t]*["']?(?:)" +
                        std::string(kDenyKebab) + R"((?:[^a-z0-9._~+/=-]|$)|([a-z0-9._~+/=-]{16,})))",
                    {"api-key", "apikey", "auth-token", "access-token", "api-token"}, 1, 3.0, true});

  // ---------------------------------------------------------- url-credentials
  // scheme://user:password@host for any scheme containing one of these
  // words (https, git+ssh, sftp, …; database schemes overlap the cloud
  // group). The password may contain ':'; it may not start with '$', '%' or
  // '{' (${PASS}, %s, {password}).
  rules->push_back({"url-password", "url-credentials", "Password in the userinfo of a URL",
                    R"((?i)\b[a-z0-9+.-]*(?:http|ftp|ssh|git|svn|smtp|imap|pop3|ldap|rsync|dav|nntp|xmpp|socks|amqp|)"
                    R"(mqtt|redis|mongodb|postgres|mysql|mssql|sqlserver|jdbc|nats|kafka|smb|vnc|telnet|irc)[a-z0-9+.-]*)"
                    R"(://[^\s:/?#@"'`<>]*:([^\s/?#@"'`<>$%{][^\s/?#@"'`<>]*)@[a-z0-9\[._-])",
                    {"http", "ftp", "ssh", "svn", "smtp", "imap", "pop3", "ldap", "rsync", "dav",
                     "nntp", "xmpp", "socks", "amqp", "mqtt", "redis", "mongodb", "postgres", "mysql", "mssql",
                     "sqlserver", "jdbc", "nats", "kafka", "smb", "vnc", "telnet", "irc"},
                    1, 0, false});
  // https://<token>@github.com/…: userinfo without a password, 20+
  // characters with some entropy. All-lower-case names (deny branch:
  // ci-deploy-service-account, first.last) and code-like names are user
  // names, not tokens.
  rules->push_back({"url-token-userinfo", "url-credentials", "Token used as the user name of an http(s)/git URL",
                    R"((?i)\b[a-z0-9+.-]*(?:http|git|ssh)[a-z0-9+.-]*://)"
                    R"((?:(?-i:[a-z]+(?:[-.][a-z]+)*)@|([a-z0-9_~.-]{20,})@)[a-z0-9\[._-])",
                    {"http", "ssh"}, 1, 3.0, true});
  // curl -u user:password / --user / --proxy-user / -U.
  rules->push_back({"curl-user-password", "url-credentials", "Password given to curl with -u/--user user:password",
                    R"((?i)\bcurl\b[^\n]*?[ \t](?:-u|--user|-U|--proxy-user)(?:[ \t]+|=)?["']?)"
                    R"([^\s:"']*:([^\s"'$<{(][^\s"']*))",
                    {"curl"}, 1, 0, false});

  // --------------------------------------------------------------- assignment
  // Password-named keys: no entropy floor (hunter2 is a password), but
  // code-like values are dropped.
  rules->push_back({"assignment-password", "assignment",
                    "Value assigned to a password-named key (shell, .env, INI/TOML, code, JSON text, prose)",
                    Assignment(password_key, deny_password, password_value), password_words, 1, 0, true});
  // Secret/token/key-named keys often hold non-secrets (token_type,
  // pagination cursors, names): 12+ characters and an entropy floor. UUIDs
  // and hex strings under these keys pass the floor and are redacted on
  // purpose — many real tokens have exactly that shape.
  rules->push_back({"assignment-secret", "assignment",
                    "Value assigned to a secret- or credentials-named key (client_secret, SECRET_KEY, …)",
                    Assignment(secret_key, deny_code_or_kebab, token_value), secret_words, 1, 3.0, true});
  rules->push_back({"assignment-token", "assignment", "Value assigned to a token-named key (auth_token, GITHUB_TOKEN, …)",
                    Assignment(token_key, deny_code_or_kebab, token_value), token_words, 1, 3.0, true});
  rules->push_back({"assignment-api-key", "assignment",
                    "Value assigned to an api/access/private key-named key (API_KEY, apiKey, access_key, …)",
                    Assignment(api_key_key, deny_code_or_kebab, token_value), api_key_words, 1, 3.0, true});
  // fish: set -x API_TOKEN value / set -gx DB_PASSWORD value. At least one
  // flag, so that "set password for alice" stays prose.
  rules->push_back({"assignment-fish-set", "assignment", "Secret set with fish's `set [-gxU] NAME value`",
                    R"((?i)\bset[ \t]+(?:-[a-z]+[ \t]+)+(?:)" + password_key + "|" + secret_key + "|" + token_key +
                        "|" + api_key_key + R"()[ \t]+["']?()" + password_value + ")" + kTerm,
                    Concat({password_words, secret_words, token_words, api_key_words}), 1, 0, true});
  // --password value / --db-pass 'value' (the `=` form is assignment-password).
  // The value must contain a digit or symbol: "the --password flag" is prose.
  rules->push_back(
      {"cli-password-flag", "assignment", "Password given as the argument of a --password style flag",
       R"((?i)(?:^|\s)--?(?:[a-z0-9]+-)*(?:password|passwd|passphrase|pass|pwd)[ \t]+["']?)"
       // value: letters up to a first digit/symbol, or a digit/symbol first ...
       R"(((?:[^\s"'`$<{(*/.~-][^\s"'`]*(?-i:[^a-zA-Z\s"'`.,;:?)])|(?-i:[^a-zA-Z\s"'`$<{(*/.~.,;:?)-])))"
       // ... then the rest, not ending in sentence punctuation.
       R"((?:[^\s"'`]*[^\s"'`.,;:)])?)[.,;:)]?(?:["'\s]|$))",
       password_words, 1, 0, true});
  // --token value / --api-key value / --client-secret value.
  rules->push_back({"cli-secret-flag", "assignment", "Token or key given as the argument of a --token style flag",
                    R"((?i)(?:^|\s)--?(?:[a-z0-9]+-)*(?:token|secret|api-?key|access-key)(?:[ \t]+|=)["']?(?:)" +
                        std::string(kDenyKebab) + R"((?:["'\s]|$)|([^\s"'`$<{(*/.~-][^\s"'`]{10,}[^\s"'`.,;:)])))",
                    {"token", "secret", "api-key", "apikey", "access-key"}, 1, 3.0, true});
  // mysql -pSECRET (glued; `-p` alone prompts, `-P` is the port).
  rules->push_back({"cli-mysql-password", "assignment", "Password glued to mysql's -p flag",
                    R"(\bmysql(?:dump|admin|sh|import|check)?\b[^\n|;&]*?[ \t]-p["']?([^\s"'`$<{(*-][^\s"'`]+))",
                    {"mysql"}, 1, 0, true});

  // -------------------------------------------------------------- config-file
  // YAML / prose `key: value` with the value ending the line.
  rules->push_back({"config-password", "config-file", "Password-named key in YAML or `Password: value` lines",
                    ColonLine(password_key, kDenyPasswordWord, "+"), password_words, 1, 0, true});
  rules->push_back({"config-secret", "config-file", "Secret- or credentials-named key in YAML lines",
                    ColonLine(secret_key, kDenyKebab, "{10,}"), secret_words, 1, 3.0, true});
  rules->push_back({"config-token", "config-file", "Token-named key in YAML lines",
                    ColonLine(token_key, kDenyKebab, "{10,}"), token_words, 1, 3.0, true});
  rules->push_back({"config-api-key", "config-file", "Api/access/private key-named key in YAML lines",
                    ColonLine(api_key_key, kDenyKebab, "{10,}"), api_key_words, 1, 3.0, true});
  // .netrc: machine HOST login USER password SECRET (also `default login …`).
  rules->push_back({"netrc-password", "config-file", "Password in a .netrc entry",
                    R"((?i)\b(?:machine[ \t]+\S+|default)\s+login\s+\S+\s+password\s+(\S+))", {"password"}, 1, 0,
                    true});
  // A key and its value sit close together: search less text per keyword hit.
  for (RuleSpec& r : *rules) {
    if (r.family == "assignment" || r.family == "config-file") r.max_match_bytes = 512;
  }
}

}  // namespace tsync::redact
