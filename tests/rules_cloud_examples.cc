// Examples for the cloud / infrastructure / database-URL rules
// (redact/rules_cloud.cc). Fake secrets come from a fixed-seed generator so
// that they have the real length and charset and look random, without
// pasting hundreds of characters of noise here; the output is the same on
// every call.
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/rule_examples.h"

namespace tsync::redact::testing {

namespace {

constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::string_view kUpperHex = "0123456789ABCDEF";
constexpr std::string_view kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kAzureTail = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-";

// splitmix64 over a fixed seed.
class Gen {
 public:
  std::string Of(std::string_view alphabet, size_t n) {
    std::string s;
    s.reserve(n);
    for (size_t i = 0; i < n; ++i) s.push_back(alphabet[Next() % alphabet.size()]);
    return s;
  }
  std::string Hex(size_t n) { return Of(kHex, n); }
  std::string Alnum(size_t n) { return Of(kAlnum, n); }
  std::string Uuid() { return Hex(8) + "-" + Hex(4) + "-4" + Hex(3) + "-a" + Hex(3) + "-" + Hex(12); }

 private:
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_ = 0x7473796e63636c64ULL;
};

class Examples {
 public:
  void Pos(const std::string& id, const std::string& before, const std::string& secret,
           const std::string& after = "") {
    out.push_back({id, before + secret + after, secret});
  }
  void Neg(const std::string& id, const std::string& text) { out.push_back({id, text, ""}); }
  std::vector<RuleExample> out;
};

}  // namespace

std::vector<RuleExample> CloudExamples() {
  Gen g;
  Examples e;

  // ---- AWS ----
  e.Pos("aws-access-key-id", "$ aws configure set aws_access_key_id ", "AKIA" + g.Of(kBase32, 16), "\n");
  e.Pos("aws-access-key-id", R"({"Credentials": {"AccessKeyId": ")", "ASIA" + g.Of(kBase32, 16),
        R"(", "Expiration": "2026-11-21T09:00:00+00:00"}})");
  e.Neg("aws-access-key-id", "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX  # replace with your key");
  e.Neg("aws-access-key-id", "Key id AKIA" + g.Of(kBase32, 15) + " is one character short.");
  e.Neg("aws-access-key-id", "resource tag AKIA" + g.Of(kBase32, 22) + " in the stack output");

  e.Pos("aws-secret-access-key", "[default]\naws_access_key_id = AKIA" + g.Of(kBase32, 16) +
                                     "\naws_secret_access_key = ", g.Of(kBase64, 40), "\nregion = eu-west-1\n");
  e.Pos("aws-secret-access-key", R"({"Credentials": {"AccessKeyId": "ASIA)" + g.Of(kBase32, 16) +
                                     R"(", "SecretAccessKey": ")", g.Of(kBase64, 40), R"(", "SessionToken": "..."}})");
  e.Pos("aws-secret-access-key", "export AWS_ACCESS_KEY_ID=AKIA" + g.Of(kBase32, 16) + "\nexport AWS_SECRET_ACCESS_KEY=",
        g.Of(kBase64, 40), "\n");
  e.Neg("aws-secret-access-key", "Set your AWS secret access key in the console under IAM > Users > Security credentials.");
  e.Neg("aws-secret-access-key", "export AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY_PROD");
  e.Neg("aws-secret-access-key", "aws_secret_access_key_sha1 = " + g.Hex(40) + "  # fingerprint of the rotated key");
  e.Neg("aws-secret-access-key", "aws_secret_access_key = os.environ[\"AWS_SECRET_ACCESS_KEY\"]");

  e.Pos("aws-session-token", "export AWS_SESSION_TOKEN=", "IQoJb3JpZ2luX2VjE" + g.Of(kBase64, 300), "\n");
  e.Pos("aws-session-token", R"(    "SessionToken": ")", "FwoGZXIvYXdzE" + g.Of(kBase64, 220) + "==",
        R"(",
    "Expiration": "2026-11-21T10:12:00Z")");
  e.Pos("aws-session-token", "X-Amz-Date: 20261121T080000Z\nX-Amz-Security-Token: ", "IQoJb3JpZ2luX2VjE" + g.Of(kBase64, 260),
        "\nAuthorization: AWS4-HMAC-SHA256 Credential=ASIA" + g.Of(kBase32, 16) + "/20261121/us-east-1/s3/aws4_request");
  e.Neg("aws-session-token",
        "export AWS_SESSION_TOKEN=$(aws sts get-session-token --query Credentials.SessionToken --output text)");
  e.Neg("aws-session-token", "aws_session_token = None  # filled in by assume_role()");

  const std::string mws = "amzn.mws." + g.Uuid();
  e.Pos("aws-mws-auth-token", "MWS_AUTH_TOKEN=", mws, "\nSELLER_ID=A2EUQ1WTGCTBG2\n");
  e.Pos("aws-mws-auth-token", "client = MWSClient(seller_id='A2EUQ1WTGCTBG2', auth_token='", "amzn.mws." + g.Uuid(), "')");
  e.Neg("aws-mws-auth-token", "the ticket quotes amzn.mws." + g.Hex(8) + "-" + g.Hex(4) + " but the rest was cut off");
  e.Neg("aws-mws-auth-token", "MWS auth tokens look like amzn.mws.<uuid> and come from Seller Central.");

  e.Pos("aws-bedrock-api-key", "export AWS_BEARER_TOKEN_BEDROCK=", "ABSKQmVkcm9ja0FQSUtleS" + g.Of(kBase64, 110) + "=",
        "\n");
  e.Pos("aws-bedrock-api-key", R"({"env": {"AWS_BEARER_TOKEN_BEDROCK": ")",
        "ABSKQmVkcm9ja0FQSUtleS" + g.Of(kBase64, 118), R"(", "CLAUDE_CODE_USE_BEDROCK": "1"}})");
  e.Neg("aws-bedrock-api-key", "long-term keys begin with ABSKQmVkcm9ja0FQSUtleS" + g.Of(kBase64, 12));
  e.Neg("aws-bedrock-api-key", "token ABSK" + g.Of(kBase64, 120) + " is from another service");

  e.Pos("aws-bedrock-short-term-api-key", "export AWS_BEARER_TOKEN_BEDROCK=",
        "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t" + g.Of(kBase64, 600) + "=", "\n");
  e.Pos("aws-bedrock-short-term-api-key", "token = generator.get_token()  # -> '",
        "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t" + g.Of(kBase64, 420), "'");
  e.Neg("aws-bedrock-short-term-api-key", "Short-term keys start with bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t and expire.");
  e.Neg("aws-bedrock-short-term-api-key", "bedrock-api-key-" + g.Of(kBase64, 200));

  // ---- Google ----
  e.Pos("gcp-api-key", "GOOGLE_API_KEY=", "AIza" + g.Of(kBase64Url, 35), "\n");
  e.Pos("gcp-api-key", "curl 'https://maps.googleapis.com/maps/api/geocode/json?address=Paris&key=",
        "AIza" + g.Of(kBase64Url, 35), "'");
  e.Neg("gcp-api-key", "fixtures/maps.json mentions AIza" + g.Of(kAlnum, 34) + " which is one character short");
  e.Neg("gcp-api-key", "fixture id AIza" + g.Of(kAlnum, 41) + " in the snapshot");

  e.Pos("gcp-oauth-client-secret",
        R"({"installed":{"client_id":"184736251-q8v2m.apps.googleusercontent.com","client_secret":")",
        "GOCSPX-" + g.Of(kBase64Url, 28), R"(","redirect_uris":["http://localhost"]}})");
  e.Pos("gcp-oauth-client-secret", "GOOGLE_CLIENT_SECRET=", "GOCSPX-" + g.Of(kBase64Url, 28), "\n");
  e.Neg("gcp-oauth-client-secret", "GOOGLE_CLIENT_SECRET=GOCSPX-" + std::string(28, 'x'));
  e.Neg("gcp-oauth-client-secret", "the console showed GOCSPX-" + g.Of(kAlnum, 20) + " before the copy was truncated");

  e.Pos("gcp-oauth-access-token", R"(curl -H "Authorization: Bearer )", "ya29.a0" + g.Of(kBase64Url, 180),
        R"(" https://www.googleapis.com/drive/v3/files)");
  e.Pos("gcp-oauth-access-token", R"({"access_token": ")", "ya29.c." + g.Of(kBase64Url, 150),
        R"(", "expires_in": 3599, "token_type": "Bearer"})");
  e.Neg("gcp-oauth-access-token", "Google access tokens start with ya29.a0AfH6SM and expire after an hour.");
  e.Neg("gcp-oauth-access-token", "access_token=ya29." + std::string(40, 'x'));

  e.Pos("gcp-oauth-refresh-token",
        R"({"client_id": "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com", "refresh_token": ")",
        "1//0g" + g.Of(kBase64Url, 98), R"(", "type": "authorized_user"})");
  e.Pos("gcp-oauth-refresh-token", "creds = Credentials(None, refresh_token='", "1//03" + g.Of(kBase64Url, 100),
        "', token_uri=TOKEN_URI)");
  e.Neg("gcp-oauth-refresh-token", R"({"refresh_token": null, "token_uri": "https://oauth2.googleapis.com/token"})");
  e.Neg("gcp-oauth-refresh-token", "Google refresh tokens begin with 1//0 and never expire; keep refresh_token in Secret Manager.");

  e.Pos("gcp-service-account-private-key-id",
        "     1\t{\n     2\t  \"type\": \"service_account\",\n     3\t  \"project_id\": \"acme-prod-4821\",\n     4\t  "
        "\"private_key_id\": \"",
        g.Hex(40), "\",\n     5\t  \"client_email\": \"deployer@acme-prod-4821.iam.gserviceaccount.com\",\n");
  e.Pos("gcp-service-account-private-key-id", "credentials:\n  type: service_account\n  private_key_id: ", g.Hex(40),
        "\n");
  e.Neg("gcp-service-account-private-key-id", R"({"type": "service_account", "private_key_id": "", "private_key": ""})");
  e.Neg("gcp-service-account-private-key-id", R"({"private_key_id": ")" + g.Hex(32) + R"("})");

  e.Pos("gcp-fcm-server-key", R"(curl -H "Authorization: key=)",
        "AAAA" + g.Of(kBase64Url, 7) + ":APA91b" + g.Of(kBase64Url, 134),
        R"(" -H "Content-Type: application/json" https://fcm.googleapis.com/fcm/send)");
  e.Pos("gcp-fcm-server-key", "FCM_SERVER_KEY=", "AAAA" + g.Of(kBase64Url, 7) + ":APA91b" + g.Of(kBase64Url, 134), "\n");
  e.Neg("gcp-fcm-server-key", "registration token APA91b" + g.Of(kBase64Url, 134) + " for device 7");
  e.Neg("gcp-fcm-server-key", "FCM_SERVER_KEY=AAAA" + g.Of(kBase64Url, 7) + ":APA91b" + g.Of(kBase64Url, 40));

  // ---- Azure ----
  e.Pos("azure-storage-account-key", "DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey=",
        g.Of(kBase64, 86) + "==", ";EndpointSuffix=core.windows.net");
  e.Pos("azure-storage-account-key",
        R"(AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=stprod01;AccountKey=)",
        g.Of(kBase64, 86) + "==", R"(")");
  e.Neg("azure-storage-account-key", "AccountName=acmelogs;AccountKey=" + g.Of(kBase64, 40) + "==;");
  e.Neg("azure-storage-account-key", "DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey=<storage-account-key>");

  e.Pos("azure-shared-access-key",
        "Endpoint=sb://acme-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=",
        g.Of(kBase64, 43) + "=", "");
  e.Pos("azure-shared-access-key", R"(IOTHUB_DEVICE_CONNECTION_STRING="HostName=acme-hub.azure-devices.net;DeviceId=sensor-7;SharedAccessKey=)",
        g.Of(kBase64, 43) + "=", R"(")");
  e.Neg("azure-shared-access-key", "SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=<key>");
  e.Neg("azure-shared-access-key", "Endpoint=sb://acme-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;EntityPath=orders");

  e.Pos("azure-sas-signature",
        "az storage blob download --blob-url 'https://acmelogs.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2026-12-01T00:00:00Z&st=2026-11-20T00:00:00Z&spr=https&sig=",
        g.Alnum(20) + "%2B" + g.Alnum(10) + "%2F" + g.Alnum(10) + "%3D", "' -f db.bak");
  e.Pos("azure-sas-signature",
        "BlobEndpoint=https://stprod01.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2027-01-01T00:00:00Z&spr=https&sig=",
        g.Of(kBase64, 43) + "=", "");
  e.Neg("azure-sas-signature", "https://cdn.example.net/img.png?w=200&sig=ab12cd34");
  e.Neg("azure-sas-signature", "BLOB_URL=\"https://acmelogs.blob.core.windows.net/backups?sv=2022-11-02&sp=rl&sig=${SAS_SIGNATURE}\"");

  e.Pos("azure-client-secret", "AZURE_CLIENT_ID=" + g.Uuid() + "\nAZURE_CLIENT_SECRET=",
        g.Alnum(3) + "8Q~" + g.Of(kAzureTail, 34), "\nAZURE_TENANT_ID=" + g.Uuid() + "\n");
  e.Pos("azure-client-secret", R"(env:
  ARM_CLIENT_SECRET: ")", g.Alnum(12) + "[" + g.Alnum(9) + ":@" + g.Alnum(8) + "-?", "\"\n");
  e.Neg("azure-client-secret", "AZURE_CLIENT_SECRET: ${{ secrets.AZURE_CLIENT_SECRET }}");
  e.Neg("azure-client-secret", "AZURE_CLIENT_SECRET_ID=" + g.Uuid());
  e.Neg("azure-client-secret", "azure_client_secret = settings.azure_client_secret");

  e.Pos("azure-ad-client-secret", R"({"appId": ")" + g.Uuid() + R"(", "displayName": "ci-deployer", "password": ")",
        g.Alnum(3) + "8Q~" + g.Of(kAzureTail, 34), R"(", "tenant": ")" + g.Uuid() + R"("})");
  e.Pos("azure-ad-client-secret", R"(app = msal.ConfidentialClientApplication(CLIENT_ID, client_credential=")",
        g.Alnum(3) + "7Q~" + g.Of(kAzureTail, 31), R"(", authority=AUTHORITY))");
  e.Neg("azure-ad-client-secret", "client secret abc8Q~" + g.Alnum(12) + " was truncated by the console");
  e.Neg("azure-ad-client-secret", "client secret id " + g.Alnum(3) + "8Q~" + g.Alnum(44));

  // ---- DigitalOcean ----
  e.Pos("digitalocean-personal-access-token", "export DIGITALOCEAN_TOKEN=", "dop_v1_" + g.Hex(64), "\n");
  e.Pos("digitalocean-personal-access-token", "$ doctl auth init --context prod -t ", "dop_v1_" + g.Hex(64), "");
  e.Neg("digitalocean-personal-access-token", "doctl rejected dop_v1_" + g.Hex(63) + " (63 hex digits, one short)");
  e.Neg("digitalocean-personal-access-token", "see docs/dop_v1_" + g.Of("ghijklmnopqrstuvwxyz", 64) + ".md");
  const std::string doo = "doo_v1_" + g.Hex(64);
  const std::string dor = "dor_v1_" + g.Hex(64);
  const std::string do_oauth = R"({"access_token":")" + doo + R"(","token_type":"bearer","expires_in":2592000,"refresh_token":")" +
                               dor + R"("})";
  e.out.push_back({"digitalocean-oauth-token", do_oauth, doo});
  e.Pos("digitalocean-oauth-token", "Authorization: Bearer ", "doo_v1_" + g.Hex(64), "");
  e.Neg("digitalocean-oauth-token", "access token doo_v1_" + g.Hex(40) + " (truncated)");
  e.Neg("digitalocean-oauth-token", "OAuth tokens are prefixed doo_v1_ and refresh tokens dor_v1_.");
  e.out.push_back({"digitalocean-refresh-token", do_oauth, dor});
  e.Pos("digitalocean-refresh-token", "curl -X POST 'https://cloud.digitalocean.com/v1/oauth/token?grant_type=refresh_token&refresh_token=",
        "dor_v1_" + g.Hex(64), "'");
  e.Neg("digitalocean-refresh-token", "log: refresh failed for dor_v1_" + g.Hex(65) + " (65 digits)");
  e.Neg("digitalocean-refresh-token", "Refresh tokens start with dor_v1_ and are single-use.");

  // ---- Heroku ----
  e.Pos("heroku-api-key", "export HEROKU_API_KEY=", g.Uuid(), "\n");
  e.Pos("heroku-api-key", "deploy:\n  heroku_oauth_token: \"", g.Uuid(), "\"\n");
  e.Neg("heroku-api-key", "HEROKU_APP_ID=" + g.Uuid());
  e.Neg("heroku-api-key", "export HEROKU_API_KEY=$(heroku auth:token)");

  e.Pos("heroku-api-token", "$ heroku auth:token\n", "HRKU-AA" + g.Of(kBase64Url, 58), "\n");
  e.Pos("heroku-api-token", "HEROKU_API_KEY=", "HRKU-AA" + g.Of(kBase64Url, 58), "");
  e.Neg("heroku-api-token", "heroku auth:whoami printed HRKU-" + g.Alnum(20) + " before the terminal wrapped");
  e.Neg("heroku-api-token", "HEROKU_API_KEY=HRKU-" + std::string(60, 'x'));

  // ---- Cloudflare ----
  e.Pos("cloudflare-api-token", "export CLOUDFLARE_API_TOKEN=", g.Of(kBase64Url, 40), "\nwrangler deploy\n");
  e.Pos("cloudflare-api-token", "env:\n  CF_API_TOKEN: \"", g.Of(kBase64Url, 40), "\"\n");
  e.Neg("cloudflare-api-token", "CLOUDFLARE_API_TOKEN: ${{ secrets.CLOUDFLARE_API_TOKEN }}");
  e.Neg("cloudflare-api-token", "cf_api_token_id: " + g.Hex(32));

  e.Pos("cloudflare-global-api-key", "CLOUDFLARE_EMAIL=ops@acme.io\nCLOUDFLARE_API_KEY=", g.Hex(37), "\n");
  e.Pos("cloudflare-global-api-key", R"(curl -H "X-Auth-Email: ops@acme.io" -H "X-Auth-Key: )", g.Hex(37),
        R"(" https://api.cloudflare.com/client/v4/zones)");
  e.Neg("cloudflare-global-api-key", "CLOUDFLARE_API_KEY=$(op read op://ops/cloudflare/global-key)");
  e.Neg("cloudflare-global-api-key", R"(curl -H "X-Auth-Key: $CF_API_KEY" https://api.cloudflare.com/client/v4/zones)");

  e.Pos("cloudflare-origin-ca-key", "CF_ORIGIN_CA_KEY=", "v1.0-" + g.Hex(24) + "-" + g.Hex(146), "\n");
  e.Pos("cloudflare-origin-ca-key", R"({"origin_ca_key": ")", "v1.0-" + g.Hex(24) + "-" + g.Hex(146), R"("})");
  e.Neg("cloudflare-origin-ca-key", "CF_ORIGIN_CA_KEY=v1.0-" + g.Hex(24) + "-" + g.Hex(100));
  e.Neg("cloudflare-origin-ca-key", "Upgrade the origin-ca-issuer chart to v1.0-rc1 before rotating keys.");

  // ---- Fly.io ----
  e.Pos("flyio-oauth-token", "FLY_API_TOKEN=", "fo1_" + g.Of(kBase64Url, 43), "\n");
  e.Pos("flyio-oauth-token", "$ fly auth token\n", "fo1_" + g.Of(kBase64Url, 43), "\n");
  e.Neg("flyio-oauth-token", "flyctl: fo1_" + g.Alnum(30) + " is not a valid token (too short)");
  e.Neg("flyio-oauth-token", "span id fo1_" + g.Alnum(50) + " in the trace");

  e.Pos("flyio-macaroon-token", R"(FLY_API_TOKEN="FlyV1 )", "fm2_" + g.Of(kBase64, 320) + "==", "\"\n");
  e.Pos("flyio-macaroon-token", "$ fly tokens create deploy -x 999999h\n", "fm1r_" + g.Of(kBase64, 180), "\n");
  e.Neg("flyio-macaroon-token", "FLY_API_TOKEN=\"FlyV1 fm2_" + g.Alnum(50) + "\"");
  e.Neg("flyio-macaroon-token", "Deploy tokens start with fm2_ and are several hundred characters long.");

  // ---- Vercel ----
  e.Pos("vercel-token", "VERCEL_TOKEN=", g.Alnum(24), "\nVERCEL_ORG_ID=team_" + g.Alnum(24) + "\n");
  e.Pos("vercel-token", "$ npx vercel deploy --prod --token ", g.Alnum(24), " --yes");
  e.Neg("vercel-token", "npx vercel deploy --prod --token $VERCEL_TOKEN");
  e.Neg("vercel-token", "npx vercel whoami --token-file /run/secrets/vercel");

  // ---- Supabase ----
  e.Pos("supabase-access-token", "SUPABASE_ACCESS_TOKEN=", "sbp_" + g.Hex(40), "\n");
  e.Pos("supabase-access-token", "$ supabase login --token ", "sbp_" + g.Hex(40), "");
  e.Neg("supabase-access-token", "the CLI printed sbp_" + g.Hex(39) + " (39 hex digits, truncated)");
  e.Neg("supabase-access-token", "migration file sbp_" + g.Of("ghijklmnopqrstuvwxyz", 40) + ".sql");

  e.Pos("supabase-secret-key", "SUPABASE_SECRET_KEY=", "sb_secret_" + g.Of(kBase64Url, 31), "\n");
  e.Pos("supabase-secret-key", "const supabase = createClient(SUPABASE_URL, '", "sb_secret_" + g.Of(kBase64Url, 31), "')");
  e.Neg("supabase-secret-key", "Secret keys start with sb_secret_ and must stay on the server.");
  e.Neg("supabase-secret-key", "const key = process.env.SUPABASE_SECRET_KEY // sb_secret_...");

  // ---- Databricks ----
  e.Pos("databricks-api-token", "DATABRICKS_HOST=https://adb-4821.7.azuredatabricks.net\nDATABRICKS_TOKEN=", "dapi" + g.Hex(32),
        "\n");
  e.Pos("databricks-api-token", "[DEFAULT]\nhost = https://dbc-a1b2c3d4-e5f6.cloud.databricks.com\ntoken = ",
        "dapi" + g.Hex(32) + "-2", "\n");
  e.Neg("databricks-api-token", "Error: invalid PAT format dapi" + g.Hex(31) + " (31 hex digits)");
  e.Neg("databricks-api-token", "request id dapi" + g.Hex(40) + " in the audit log");

  // ---- HashiCorp ----
  e.Pos("vault-service-token", "$ export VAULT_TOKEN=", "hvs." + g.Alnum(24), "\n");
  e.Pos("vault-service-token", R"({"auth": {"client_token": ")", "hvs.CAESI" + g.Of(kBase64Url, 90),
        R"(", "accessor": ")" + g.Alnum(24) + R"(", "lease_duration": 2764800}})");
  e.Neg("vault-service-token", "VAULT_TOKEN=hvs." + g.Alnum(10));
  e.Neg("vault-service-token", "VAULT_TOKEN=hvs." + std::string(24, 'x'));

  e.Pos("vault-batch-token", R"({"auth": {"client_token": ")", "hvb.AAAAAQ" + g.Of(kBase64Url, 150), R"(", "orphan": true}})");
  e.Pos("vault-batch-token", "VAULT_TOKEN=", "hvb." + g.Of(kBase64Url, 140), "\n");
  e.Neg("vault-batch-token", "Batch tokens are prefixed with hvb. and cannot be renewed.");
  e.Neg("vault-batch-token", "VAULT_TOKEN=hvb." + g.Alnum(12));

  e.Pos("vault-recovery-token", "Encoded Token      ", "hvr." + g.Alnum(24), "\n");
  e.Pos("vault-recovery-token", "export VAULT_TOKEN=", "hvr." + g.Alnum(24), "\n");
  e.Neg("vault-recovery-token", "Recovery tokens start with hvr. and only work in recovery mode.");
  e.Neg("vault-recovery-token", "VAULT_TOKEN=hvr." + g.Alnum(16));

  e.Pos("vault-legacy-token", "export VAULT_ADDR=https://vault.acme.internal:8200\nexport VAULT_TOKEN=", "s." + g.Alnum(24), "\n");
  e.Pos("vault-legacy-token", R"(curl -H "X-Vault-Token: )", "s." + g.Alnum(24),
        R"(" https://vault.acme.internal:8200/v1/secret/data/app)");
  e.Neg("vault-legacy-token", "VAULT_TOKEN=s." + g.Alnum(20));
  e.Neg("vault-legacy-token", R"(curl -H "X-Vault-Token: $VAULT_TOKEN" $VAULT_ADDR/v1/sys/health)");

  e.Pos("terraform-cloud-api-token", R"({"credentials": {"app.terraform.io": {"token": ")",
        g.Alnum(14) + ".atlasv1." + g.Of(kBase64Url, 67), R"("}}})");
  e.Pos("terraform-cloud-api-token", "export TF_TOKEN_app_terraform_io=", g.Alnum(14) + ".atlasv1." + g.Alnum(66), "\n");
  e.Neg("terraform-cloud-api-token", "TF_TOKEN_app_terraform_io=" + g.Alnum(14) + ".atlasv1." + g.Alnum(30));
  e.Neg("terraform-cloud-api-token", "TF_TOKEN_app_terraform_io=" + g.Alnum(10) + ".atlasv1." + g.Alnum(67));

  // ---- Pulumi, Doppler, PlanetScale ----
  e.Pos("pulumi-access-token", "export PULUMI_ACCESS_TOKEN=", "pul-" + g.Hex(40), "\npulumi up --yes\n");
  e.Pos("pulumi-access-token", "$ pulumi login --non-interactive  # token ", "pul-" + g.Hex(40), "");
  e.Neg("pulumi-access-token", "pulumi: token pul-" + g.Hex(39) + " has the wrong length");
  e.Neg("pulumi-access-token", "resource urn suffix pul-" + g.Hex(48));

  e.Pos("doppler-token", "DOPPLER_TOKEN=", "dp.pt." + g.Alnum(43), "\n");
  e.Pos("doppler-token", "$ doppler configure set token ", "dp.sa." + g.Alnum(44), " --scope /");
  e.Neg("doppler-token", "DOPPLER_TOKEN=dp.pt." + g.Alnum(30));
  e.Neg("doppler-token", "DOPPLER_TOKEN=dp.pt." + std::string(43, 'x'));

  e.Pos("doppler-service-token", "DOPPLER_TOKEN=", "dp.st.prd." + g.Alnum(43), "\n");
  e.Pos("doppler-service-token", "docker run -e DOPPLER_TOKEN=", "dp.st." + g.Alnum(40), " acme/api");
  e.Neg("doppler-service-token", "DOPPLER_TOKEN=dp.st.dev." + g.Alnum(20));
  e.Neg("doppler-service-token", "Service tokens look like dp.st.<config>.<token>");

  e.Pos("planetscale-api-token", "PLANETSCALE_SERVICE_TOKEN=", "pscale_tkn_" + g.Of(kBase64Url, 43), "\n");
  e.Pos("planetscale-api-token", "pscale branch list main --service-token ", "pscale_tkn_" + g.Of(kBase64Url, 43), " --org acme");
  e.Neg("planetscale-api-token", "Service tokens are prefixed pscale_tkn_ in the dashboard.");
  e.Neg("planetscale-api-token", "pscale: pscale_tkn_" + g.Alnum(16) + " looks truncated");

  e.Pos("planetscale-password", "DATABASE_PASSWORD=", "pscale_pw_" + g.Of(kBase64Url, 43), "\n");
  e.Pos("planetscale-password", "password: ", "pscale_pw_" + g.Of(kBase64Url, 43), "\nsslmode: verify-full\n");
  e.Neg("planetscale-password", "pscale password list shows ids like pscale_pw_ plus 43 characters");
  e.Neg("planetscale-password", "branch pscale_pw_" + g.Alnum(70) + " in the URL path");

  e.Pos("planetscale-oauth-token", R"({"access_token": ")", "pscale_oauth_" + g.Of(kBase64Url, 43), R"(", "expires_in": 3600})");
  e.Pos("planetscale-oauth-token", "Authorization: ", "pscale_oauth_" + g.Of(kBase64Url, 40), "\n");
  e.Neg("planetscale-oauth-token", "OAuth tokens are prefixed pscale_oauth_ ...");
  e.Neg("planetscale-oauth-token", "pscale auth login stored pscale_oauth_" + g.Alnum(24) + " (cut off)");

  // ---- Observability ----
  e.Pos("datadog-api-key", "docker run -d -e DD_API_KEY=", g.Hex(32), " -e DD_SITE=datadoghq.eu datadog/agent:7");
  e.Pos("datadog-api-key", R"(curl -X POST "https://api.datadoghq.com/api/v2/series" -H "DD-API-KEY: )", g.Hex(32), R"(")");
  e.Neg("datadog-api-key", "DD_API_KEY=${DD_API_KEY}");
  e.Neg("datadog-api-key", "DD_API_KEY_SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-api-key-AbCdEf");

  e.Pos("datadog-app-key", "export DATADOG_APP_KEY=", g.Hex(40), "\n");
  e.Pos("datadog-app-key", R"(-H "DD-APPLICATION-KEY: )", g.Hex(40), R"(")");
  e.Neg("datadog-app-key", "DD_APP_KEY=" + g.Hex(32));
  e.Neg("datadog-app-key", R"(DD_APP_KEY: "<app-key>")");

  e.Pos("newrelic-user-api-key", "NEW_RELIC_API_KEY=", "NRAK-" + g.Of(kUpperAlnum, 27), "\n");
  e.Pos("newrelic-user-api-key", R"(curl https://api.newrelic.com/graphql -H "API-Key: )", "NRAK-" + g.Of(kUpperAlnum, 27), R"(")");
  e.Neg("newrelic-user-api-key", "the UI showed NRAK-" + g.Of(kUpperAlnum, 20) + " (truncated)");
  e.Neg("newrelic-user-api-key", "User keys look like NRAK-XXXXXXXXXXXXXXXXXXXXXXXXXXX in the docs.");

  e.Pos("newrelic-admin-api-key", "NEW_RELIC_ADMIN_API_KEY=", "NRAA-" + g.Of(kUpperHex, 27), "\n");
  e.Pos("newrelic-admin-api-key", "admin_key: ", "NRAA-" + g.Alnum(27), "\n");
  e.Neg("newrelic-admin-api-key", "the UI showed NRAA-" + g.Alnum(12) + " (truncated)");
  e.Neg("newrelic-admin-api-key", "trace id NRAA-" + g.Alnum(35));

  e.Pos("newrelic-rest-api-key", "NEW_RELIC_REST_API_KEY=", "NRRA-" + g.Hex(42), "\n");
  e.Pos("newrelic-rest-api-key", R"(curl -H "X-Api-Key: )", "NRRA-" + g.Hex(42), R"(" https://api.newrelic.com/v2/applications.json)");
  e.Neg("newrelic-rest-api-key", "the UI showed NRRA-" + g.Hex(20) + " (truncated)");
  e.Neg("newrelic-rest-api-key", "trace id NRRA-" + g.Hex(50));

  e.Pos("newrelic-browser-api-token", R"(;NREUM.loader_config={accountID:"3829104",licenseKey:")", "NRJS-" + g.Hex(19),
        R"(",applicationID:"601234567"})");
  e.Pos("newrelic-browser-api-token", "NEW_RELIC_BROWSER_KEY=", "NRJS-" + g.Hex(19), "\n");
  e.Neg("newrelic-browser-api-token", "NEW_RELIC_BROWSER_KEY=NRJS-" + g.Hex(18));
  e.Neg("newrelic-browser-api-token", "NEW_RELIC_BROWSER_KEY=NRJS-" + g.Of("ghijklmnopqrstuvwxyz", 19));

  e.Pos("newrelic-insert-key", "NEW_RELIC_INSERT_KEY=", "NRII-" + g.Of(kBase64Url, 32), "\n");
  e.Pos("newrelic-insert-key", R"(-H "X-Insert-Key: )", "NRII-" + g.Of(kBase64Url, 32), R"(")");
  e.Neg("newrelic-insert-key", "NEW_RELIC_INSERT_KEY=NRII-" + g.Alnum(20));
  e.Neg("newrelic-insert-key", "NEW_RELIC_INSERT_KEY=NRII-" + g.Alnum(40));

  e.Pos("newrelic-license-key", "NEW_RELIC_LICENSE_KEY=", g.Hex(36) + "NRAL", "\n");
  e.Pos("newrelic-license-key", "common: &default_settings\n  license_key: '", g.Hex(36) + "NRAL", "'\n");
  e.Neg("newrelic-license-key", "NEW_RELIC_LICENSE_KEY=" + g.Hex(35) + "NRAL");
  e.Neg("newrelic-license-key", "NEW_RELIC_LICENSE_KEY=" + g.Hex(36) + "NRALX");

  e.Pos("grafana-cloud-api-token", "GRAFANA_CLOUD_TOKEN=",
        "glc_eyJvIjoiMTA0MzIxNyIsIm4iOiJzdGFjay05ODEyMzQtYWxsb3ktZGVwbG95IiwiayI6IjB4OFpxNFZ0UjJMbU43cFljMUt3RTlzSmIiLCJtIjp7InIiOiJwcm9kLXVzLWVhc3QtMCJ9fQ==",
        "\n");
  e.Pos("grafana-cloud-api-token", R"(basic_auth:
  username: 812345
  password: )", "glc_" + g.Of(kBase64, 120) + "=", "\n");
  e.Neg("grafana-cloud-api-token", "grafana: glc_" + g.Alnum(20) + " (truncated)");
  e.Neg("grafana-cloud-api-token", "Tokens start with glc_ and are shown only once.");

  e.Pos("grafana-service-account-token", "GRAFANA_SA_TOKEN=", "glsa_" + g.Alnum(32) + "_" + g.Hex(8), "\n");
  e.Pos("grafana-service-account-token", R"(curl -H "Authorization: Bearer )", "glsa_" + g.Alnum(32) + "_" + g.Hex(8),
        R"(" https://grafana.acme.io/api/dashboards/uid/abc)");
  e.Neg("grafana-service-account-token", "the UI showed glsa_" + g.Alnum(32) + "_" + g.Hex(7) + " (cut off)");
  e.Neg("grafana-service-account-token", "Service account tokens look like glsa_ + 32 characters + _ + 8 hex digits.");

  e.Pos("grafana-api-key", "GRAFANA_API_KEY=",
        "eyJrIjoiVDB0U3BtaVJWNkZ1SmUxVWgxbDRWV3RPWVpjazJGWG4iLCJuIjoiZGVwbG95LWJvdCIsImlkIjoxfQ==", "\n");
  e.Pos("grafana-api-key", "grafana:\n  api_key: ", "eyJrIjoi" + g.Of(kBase64, 76) + "=", "\n");
  e.Neg("grafana-api-key", "Legacy API keys start with eyJrIjoi (base64 of {\"k\":\").");
  e.Neg("grafana-api-key", "token eyJrIjoi" + g.Of(kBase64Url, 70) + "." + g.Of(kBase64Url, 40) + "." + g.Of(kBase64Url, 43));

  e.Pos("sentry-dsn", "SENTRY_DSN=https://", g.Hex(32), "@o4504812.ingest.us.sentry.io/4506170123\n");
  e.Pos("sentry-dsn", R"(sentry_sdk.init(dsn="https://)", g.Hex(32) + ":" + g.Hex(32),
        R"(@sentry.acme.internal/12", traces_sample_rate=0.2))");
  e.Neg("sentry-dsn", "SENTRY_DSN=https://o4504812.ingest.us.sentry.io/4506170123");
  e.Neg("sentry-dsn", "see https://sentry.io/organizations/acme/issues/4506170123/?project=4506170123");

  e.Pos("sentry-org-auth-token", "SENTRY_AUTH_TOKEN=",
        "sntrys_eyJpYXQiOjE3NjM3MDAwMDAuMTIsInVybCI6Imh0dHBzOi8vc2VudHJ5LmlvIiwicmVnaW9uX3VybCI6Imh0dHBzOi8vdXMuc2VudHJ5LmlvIiwib3JnIjoiYWNtZS1yb2JvdGljcyJ9_" +
            g.Of(kBase64, 43),
        "\n");
  e.Pos("sentry-org-auth-token", "auth.token=", "sntrys_eyJpYXQiOj" + g.Of(kBase64, 120) + "_" + g.Of(kBase64, 43), "\n");
  e.Neg("sentry-org-auth-token", "sentry-cli: sntrys_eyJpYXQiOj" + g.Of(kAlnum, 40) + " is incomplete");
  e.Neg("sentry-org-auth-token", "Org tokens start with sntrys_ and can be created under Settings.");

  e.Pos("sentry-user-auth-token", "SENTRY_AUTH_TOKEN=", "sntryu_" + g.Hex(64), "\n");
  e.Pos("sentry-user-auth-token", R"(curl -H "Authorization: Bearer )", "sntryu_" + g.Hex(64),
        R"(" https://sentry.io/api/0/projects/)");
  e.Neg("sentry-user-auth-token", "sentry-cli: sntryu_" + g.Hex(63) + " has 63 hex digits");
  e.Neg("sentry-user-auth-token", "User tokens start with sntryu_.");

  e.Pos("sentry-legacy-auth-token", "export SENTRY_AUTH_TOKEN=", g.Hex(64), "\nsentry-cli releases new 1.4.2\n");
  e.Pos("sentry-legacy-auth-token", "[defaults]\norg=acme\n# SENTRY_AUTH_TOKEN: ", g.Hex(64), "\n");
  e.Neg("sentry-legacy-auth-token", "export SENTRY_AUTH_TOKEN=$SENTRY_AUTH_TOKEN");
  e.Neg("sentry-legacy-auth-token", "SENTRY_AUTH_TOKEN_FILE=/run/secrets/sentry");

  // ---- Alibaba Cloud ----
  e.Pos("alibaba-access-key-id", "ALIBABA_CLOUD_ACCESS_KEY_ID=", "LTAI5t" + g.Alnum(18), "\n");
  e.Pos("alibaba-access-key-id", "$ aliyun configure set --access-key-id ", "LTAI" + g.Alnum(16), " --region cn-hangzhou");
  e.Neg("alibaba-access-key-id", "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI" + g.Alnum(8));
  e.Neg("alibaba-access-key-id", "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI" + g.Alnum(24));

  e.Pos("alibaba-access-key-secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=", g.Alnum(30), "\n");
  e.Pos("alibaba-access-key-secret", "aliyun_access_key_secret: \"", g.Alnum(30), "\"\n");
  e.Neg("alibaba-access-key-secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=${ALIBABA_SECRET}");
  e.Neg("alibaba-access-key-secret", "Set ALIBABA_CLOUD_ACCESS_KEY_SECRET in the RAM console, then run aliyun configure.");

  // ---- Database and broker URLs ----
  e.Pos("postgres-url-password", "DATABASE_URL=postgres://app:", "S3cr3t-pw", "@db.internal:5432/main\n");
  e.Pos("postgres-url-password", R"(engine = create_engine("postgresql+psycopg2://etl_user:)", "Nq8vR2xLm%40Tz",
        R"(@analytics-db:5432/warehouse"))");
  e.Neg("postgres-url-password", "psql postgres://db.internal/main -c 'select 1'");
  e.Neg("postgres-url-password", "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/main");
  e.Neg("postgres-url-password", "DATABASE_URL=postgresql://postgres:password@localhost:5432/test");

  e.Pos("mysql-url-password", "mysql://root:", "Hx82kLq9Vz", "@127.0.0.1:3306/shop");
  e.Pos("mysql-url-password", "SQLALCHEMY_DATABASE_URI = 'mariadb+mariadbconnector://svc:", "t9Rk%21vB2mQ",
        "@mariadb.prod:3306/app'");
  e.Neg("mysql-url-password", "mysql://localhost:3306/shop");
  e.Neg("mysql-url-password", R"(url = f"mysql+pymysql://{user}:{password}@{host}/{db}")");

  e.Pos("mongodb-url-password", "MONGODB_URI=mongodb+srv://atlasAdmin:", "Zq7mN4vW2kPx",
        "@cluster0.ab1cd.mongodb.net/?retryWrites=true&w=majority\n");
  e.Pos("mongodb-url-password", "mongosh 'mongodb://reader:", "R4nd0m-Pa55",
        "@mongo-0.mongo:27017,mongo-1.mongo:27017/app?replicaSet=rs0'");
  e.Neg("mongodb-url-password", "mongosh 'mongodb://mongo-0.mongo:27017,mongo-1.mongo:27017/app?replicaSet=rs0'");
  e.Neg("mongodb-url-password", "MONGODB_URI=mongodb://admin:<password>@localhost:27017");

  e.Pos("redis-url-password", "REDIS_URL=redis://:", "f8Kq2ZxV9mLp", "@cache.internal:6379/0\n");
  e.Pos("redis-url-password", "redis-cli -u rediss://default:", "AVNS_k2Jx9QmZ7vRt", "@redis-prod.aivencloud.com:12345 ping");
  e.Neg("redis-url-password", "REDIS_URL=redis://localhost:6379");
  e.Neg("redis-url-password", "REDIS_URL=redis://:$REDIS_PASSWORD@cache:6379/0");

  e.Pos("amqp-url-password", "CELERY_BROKER_URL=amqp://worker:", "Vk3x9QzR7m", "@rabbitmq:5672/%2F\n");
  e.Pos("amqp-url-password", "amqps://orders:", "Lm2%23pX8vQ", "@b-1234.mq.us-east-1.amazonaws.com:5671");
  e.Neg("amqp-url-password", "CELERY_BROKER_URL=amqp://rabbitmq:5672/");
  e.Neg("amqp-url-password", "CELERY_BROKER_URL=amqp://orders:${RABBITMQ_PASSWORD}@mq:5672//");

  e.Pos("mssql-url-password", "mssql://sa:", "Yuk9!vP2xQ", "@sqlsrv.internal:1433/crm");
  e.Pos("mssql-url-password", "jdbc:sqlserver://svc_app:", "T7mQ2vZk9Lx", "@10.0.4.12:1433;databaseName=crm");
  e.Neg("mssql-url-password", "mssql://sqlsrv.internal:1433/crm");
  e.Neg("mssql-url-password", R"(dsn = "sqlserver://sa:%s@%s:1433" % (pw, host))");

  e.Pos("clickhouse-url-password", "CLICKHOUSE_URL=clickhouse://default:", "Jw4pZ8qR2nVx", "@ch.internal:9000/events\n");
  e.Pos("clickhouse-url-password", "clickhouse+native://analytics:", "H2v9LqXz7Rm", "@clickhouse:9000/default");
  e.Neg("clickhouse-url-password", "CLICKHOUSE_URL=clickhouse://localhost:8123/default");
  e.Neg("clickhouse-url-password", "CLICKHOUSE_URL=clickhouse://default:@localhost:9000");

  e.Pos("broker-url-password", "KAFKA_URL=kafka://svc-orders:", "8vKq2XzR4m", "@broker-1.kafka:9093\n");
  e.Pos("broker-url-password", "nats sub -s nats://app:", "Qz7mV2xK9p", "@nats.internal:4222 'orders.>'");
  e.Neg("broker-url-password", "KAFKA_URL=kafka://broker-1.kafka:9093,broker-2.kafka:9093");
  e.Neg("broker-url-password", "nats sub -s nats://localhost:4222 'orders.>'");

  e.Pos("database-url-password", "NEO4J_URI=neo4j+s://neo4j:", "pW9xK2mQ7vZ", "@abc123.databases.neo4j.io\n");
  e.Pos("database-url-password", "couchbases://admin:", "Vq2k8ZxR7m", "@cb.acme.io");
  e.Neg("database-url-password", "NEO4J_URI=bolt://localhost:7687");
  e.Neg("database-url-password", "NEO4J_URI=neo4j://neo4j:${NEO4J_PASSWORD}@localhost:7687");

  return e.out;
}

}  // namespace tsync::redact::testing
