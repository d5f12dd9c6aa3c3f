// Examples for the dev rules (redact/rules_dev.cc). Every secret below is
// random and fake; the shapes follow the providers' documented formats.
#include "tests/rule_examples.h"

namespace tsync::redact::testing {

std::vector<RuleExample> DevExamples() {
  return {
      {"github-pat", R"__(export GITHUB_TOKEN=ghp_8HlrwYMfvea9lkxwkkMxzwwM5hpA6eEfujfo
gh auth status)__", R"__(ghp_8HlrwYMfvea9lkxwkkMxzwwM5hpA6eEfujfo)__"},
      {"github-pat", R"__({"token": "ghp_Rnxa6wHW35PBbnm3NliqNT1Nx4xyB7LQ4DBq", "expires_at": "2026-11-21T08:00:00Z"})__", R"__(ghp_Rnxa6wHW35PBbnm3NliqNT1Nx4xyB7LQ4DBq)__"},
      {"github-pat", R"__(Create a ghp_ token in Settings > Developer settings and export it as $GITHUB_TOKEN.)__", ""},
      {"github-pat", R"__(The copied value ghp_HboMSp4DTHEzEDh2QFLVxZXSezhDvt2gl8t is one character short, so the API answers 401.)__", ""},
      {"github-pat", R"__({"id": "toolu_017mqaKzxEZUtubE7R5IiAWN", "name": "Bash", "input": {"command": "git log -1 --format=%H"}} -> 4f7f3b2c9780175e3ff9918f2191616116c76559)__", ""},
      {"github-pat", R"__(GITHUB_TOKEN=${GITHUB_TOKEN} git push origin main && echo ghp_5srlSHfWGX0h9JKN7E28r4unICHo1mYQ9qB24gPN)__", ""},
      {"github-oauth-token", R"__(export GITHUB_TOKEN=gho_XoaK7lZpZso8urnMWy2xdKbiGpW5B9G0xQLO
gh auth status)__", R"__(gho_XoaK7lZpZso8urnMWy2xdKbiGpW5B9G0xQLO)__"},
      {"github-oauth-token", R"__({"token": "gho_ry7eJZXwoR4JuqsdMfI4BRDcrD77MuBVhexl", "expires_at": "2026-11-21T08:00:00Z"})__", R"__(gho_ry7eJZXwoR4JuqsdMfI4BRDcrD77MuBVhexl)__"},
      {"github-oauth-token", R"__(Create a gho_ token in Settings > Developer settings and export it as $GITHUB_TOKEN.)__", ""},
      {"github-oauth-token", R"__(The copied value gho_hHNPZDj004bFx0pOGHg9TBsg3uhZQzsWPdw is one character short, so the API answers 401.)__", ""},
      {"github-oauth-token", R"__({"id": "toolu_01IaqZsFpJEmNwzsXFL41EwC", "name": "Bash", "input": {"command": "git log -1 --format=%H"}} -> 57a99669ea07430ea689c2e640e43c1a5fab762d)__", ""},
      {"github-oauth-token", R"__(GITHUB_TOKEN=${GITHUB_TOKEN} git push origin main && echo gho_rqs9pyaA6juCAGLlEcdO67MbO63ZJzqk5v7czXXI)__", ""},
      {"github-user-to-server-token", R"__(export GITHUB_TOKEN=ghu_gqdCTlIMhfWvRLDA5TYt9NGl1iaJdutEnCuj
gh auth status)__", R"__(ghu_gqdCTlIMhfWvRLDA5TYt9NGl1iaJdutEnCuj)__"},
      {"github-user-to-server-token", R"__({"token": "ghu_AO7RCaalcxuyBop5aVkxGzb89pc86E7oJaff", "expires_at": "2026-11-21T08:00:00Z"})__", R"__(ghu_AO7RCaalcxuyBop5aVkxGzb89pc86E7oJaff)__"},
      {"github-user-to-server-token", R"__(Create a ghu_ token in Settings > Developer settings and export it as $GITHUB_TOKEN.)__", ""},
      {"github-user-to-server-token", R"__(The copied value ghu_q6DOtoVJeK0FNjNCehkWsFTGF3xYQoOjDr8 is one character short, so the API answers 401.)__", ""},
      {"github-user-to-server-token", R"__({"id": "toolu_01BrrCZYJRbR1DtfpSWNFSpH", "name": "Bash", "input": {"command": "git log -1 --format=%H"}} -> ff16909dea770a44231961c406d98ccd509316fa)__", ""},
      {"github-user-to-server-token", R"__(GITHUB_TOKEN=${GITHUB_TOKEN} git push origin main && echo ghu_NhjbZhptoYLAlOnLY4QHcFwXR1dz1ZsgbDxtLVuT)__", ""},
      {"github-app-installation-token", R"__(export GITHUB_TOKEN=ghs_5HTpta4OKzpzVwIayh43vh7yViqWEPPlihj1
gh auth status)__", R"__(ghs_5HTpta4OKzpzVwIayh43vh7yViqWEPPlihj1)__"},
      {"github-app-installation-token", R"__({"token": "ghs_MTrdHsxPvrwDXKErhtRFKs2K9ffDVS35Pnmb", "expires_at": "2026-11-21T08:00:00Z"})__", R"__(ghs_MTrdHsxPvrwDXKErhtRFKs2K9ffDVS35Pnmb)__"},
      {"github-app-installation-token", R"__(Create a ghs_ token in Settings > Developer settings and export it as $GITHUB_TOKEN.)__", ""},
      {"github-app-installation-token", R"__(The copied value ghs_jUPULnPyx8ZuTAVE14vtVTAA14vdnc2lOch is one character short, so the API answers 401.)__", ""},
      {"github-app-installation-token", R"__({"id": "toolu_01846IC4ZulAqpNx9DHG6Hio", "name": "Bash", "input": {"command": "git log -1 --format=%H"}} -> 3c18cb9c38bbc3acb65862316574debf8b190af4)__", ""},
      {"github-app-installation-token", R"__(GITHUB_TOKEN=${GITHUB_TOKEN} git push origin main && echo ghs_ylGiFpF3NV1FOQq6obbndyktw7bxVzeQBHZ2hSH5)__", ""},
      {"github-refresh-token", R"__(refresh_token=ghr_yUt2IYexHNdUfol1P3q0QvplGLkObq9eRDtI&grant_type=refresh_token)__", R"__(ghr_yUt2IYexHNdUfol1P3q0QvplGLkObq9eRDtI)__"},
      {"github-refresh-token", R"__({"access_token":"ghu_TruWgiFaApaBuMk1iYZ4e1zX8R6YCibFhme6","refresh_token":"ghr_LwIWvrzXqcBchyM12iyuAA2V4MBvAfAsdj4ZotG5r6ssuwvRUsEWSFHvzafAVLkpuHZ6JGOIBgKV","refresh_token_expires_in":15811200})__", R"__(ghr_LwIWvrzXqcBchyM12iyuAA2V4MBvAfAsdj4ZotG5r6ssuwvRUsEWSFHvzafAVLkpuHZ6JGOIBgKV)__"},
      {"github-refresh-token", R"__(The ghr_ prefix marks GitHub refresh tokens.)__", ""},
      {"github-refresh-token", R"__(echo ghr_hdV5EWUUqz6hxAVWDFxiaNz7f7i0PsuhM3JQIC5EW7HCnXUbfa | wc -c)__", ""},
      {"github-fine-grained-pat", R"__(git clone https://oauth2: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@github.com/acme/infra.git)__", R"__(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)__"},
      {"github-fine-grained-pat", R"__(I set GH_TOKEN to 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. Can you check why the API returns 403?)__", R"__(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)__"},
      {"github-fine-grained-pat", R"__(Fine-grained tokens start with github_pat_ followed by two random parts.)__", ""},
      {"github-fine-grained-pat", R"__(The log shows github_pat_t9qaXhDdk3Ki8iXnhiojyq_uBwMtlqUZu4F6nHbH9pH11C4oGX7okIrkBxNRoaH (truncated by the terminal).)__", ""},
      {"github-fine-grained-pat", R"__(os.environ['GITHUB_PAT_TOKEN'] = get_secret('github_pat_ci'))__", ""},
      {"github-app-installation-token-v1", R"__(export GITHUB_TOKEN=v1.bfdeea796f0a423d6341c67082106800747fd66a)__", R"__(v1.bfdeea796f0a423d6341c67082106800747fd66a)__"},
      {"github-app-installation-token-v1", R"__(git remote set-url origin https://x-access-token:v1.43ef18fe3eef28ad442db86ff4304e4f041b18df@github.com/acme/api.git)__", R"__(v1.43ef18fe3eef28ad442db86ff4304e4f041b18df)__"},
      {"github-app-installation-token-v1", R"__(pip install mypkg==1.0 --hash=sha1:a02eb04d09e47d0d9178b68cd106ed38bc507634 # api v1.1711efcb20f657962f9641553a4322e59fe72f49)__", ""},
      {"github-app-installation-token-v1", R"__(github release v1.4.2 published, commit fc7741477d9105ccd4c468249e0d72143e25bec1)__", ""},
      {"github-app-installation-token-v1", R"__(github_ref: v1.af557f0cd2473c10cfed8082c97c8e)__", ""},
      {"gitlab-pat", R"__(curl --header "PRIVATE-TOKEN: glpat-KgoNDUUS-7Hjggu3IM6o_" https://gitlab.example.com/api/v4/projects)__", R"__(glpat-KgoNDUUS-7Hjggu3IM6o_)__"},
      {"gitlab-pat", R"__(gitlab:
  url: https://gitlab.acme.io
  token: glpat-8KKx5xdp-sMTB97BWmfQ_
)__", R"__(glpat-8KKx5xdp-sMTB97BWmfQ_)__"},
      {"gitlab-pat", R"__(Tokens created after 16.0 start with glpat- — rotate yours from the UI.)__", ""},
      {"gitlab-pat", R"__(echo glpat-0pTfrKGVLNnj | wc -c  # too short to be a real one)__", ""},
      {"gitlab-pat", R"__(GITLAB_TOKEN=glpat-0mHkHuPKrAzX4j6qs4C-mMrfB07.01.di4dck4zw glab mr list)__", R"__(glpat-0mHkHuPKrAzX4j6qs4C-mMrfB07.01.di4dck4zw)__"},
      {"gitlab-pat", R"__(export GITLAB_TOKEN=${GLPAT_TOKEN})__", ""},
      {"gitlab-deploy-token", R"__(curl --header "PRIVATE-TOKEN: gldt-Jm6OGRB7MrYcOfVVFpI1" https://gitlab.example.com/api/v4/projects)__", R"__(gldt-Jm6OGRB7MrYcOfVVFpI1)__"},
      {"gitlab-deploy-token", R"__(gitlab:
  url: https://gitlab.acme.io
  token: gldt-QalQXv953c83dfFMKg7H
)__", R"__(gldt-QalQXv953c83dfFMKg7H)__"},
      {"gitlab-deploy-token", R"__(Tokens created after 16.0 start with gldt- — rotate yours from the UI.)__", ""},
      {"gitlab-deploy-token", R"__(echo gldt-X2MdXE8unhSt0b9 | wc -c  # too short to be a real one)__", ""},
      {"gitlab-runner-auth-token", R"__(curl --header "PRIVATE-TOKEN: glrt-FNpJ8Adi085BrkGDlVrj" https://gitlab.example.com/api/v4/projects)__", R"__(glrt-FNpJ8Adi085BrkGDlVrj)__"},
      {"gitlab-runner-auth-token", R"__(gitlab:
  url: https://gitlab.acme.io
  token: glrt-jgez1ZZtAK6U6XrNsl5P
)__", R"__(glrt-jgez1ZZtAK6U6XrNsl5P)__"},
      {"gitlab-runner-auth-token", R"__(Tokens created after 16.0 start with glrt- — rotate yours from the UI.)__", ""},
      {"gitlab-runner-auth-token", R"__(echo glrt-Cb2iQ3KqP5 | wc -c  # too short to be a real one)__", ""},
      {"gitlab-runner-auth-token", R"__([[runners]]
  name = "ci-1"
  token = "glrt-t1_TApdj7tJ2gGcLFpCJyH9"
)__", R"__(glrt-t1_TApdj7tJ2gGcLFpCJyH9)__"},
      {"gitlab-runner-registration-token", R"__(curl --header "PRIVATE-TOKEN: glrtr-4gKJYPQ7wQBUgWKYI3sU" https://gitlab.example.com/api/v4/projects)__", R"__(glrtr-4gKJYPQ7wQBUgWKYI3sU)__"},
      {"gitlab-runner-registration-token", R"__(gitlab:
  url: https://gitlab.acme.io
  token: glrtr-xr3ZvpKuZUa1Sxmw3do1
)__", R"__(glrtr-xr3ZvpKuZUa1Sxmw3do1)__"},
      {"gitlab-runner-registration-token", R"__(Tokens created after 16.0 start with glrtr- — rotate yours from the UI.)__", ""},
      {"gitlab-runner-registration-token", R"__(echo glrtr-YmDszXXwjBlKQ0U61kW | wc -c  # too short to be a real one)__", ""},
      {"gitlab-scim-token", R"__(curl --header "PRIVATE-TOKEN: glsoat-AhaCdhtm1CRli1ZvX78N" https://gitlab.example.com/api/v4/projects)__", R"__(glsoat-AhaCdhtm1CRli1ZvX78N)__"},
      {"gitlab-scim-token", R"__(gitlab:
  url: https://gitlab.acme.io
  token: glsoat-VfQ4exFrEDoAyQmRuwgR
)__", R"__(glsoat-VfQ4exFrEDoAyQmRuwgR)__"},
      {"gitlab-scim-token", R"__(Tokens created after 16.0 start with glsoat- — rotate yours from the UI.)__", ""},
      {"gitlab-scim-token", R"__(echo glsoat-UU02jxae | wc -c  # too short to be a real one)__", ""},
      {"gitlab-ci-job-token", R"__(curl --header "PRIVATE-TOKEN: glcbt-67_8ejZS9DnSk0voU0SNIDS" https://gitlab.example.com/api/v4/projects)__", R"__(glcbt-67_8ejZS9DnSk0voU0SNIDS)__"},
      {"gitlab-ci-job-token", R"__(gitlab:
  url: https://gitlab.acme.io
  token: glcbt-61_gC3mrf8s8CMAMPy1ALMV
)__", R"__(glcbt-61_gC3mrf8s8CMAMPy1ALMV)__"},
      {"gitlab-ci-job-token", R"__(Tokens created after 16.0 start with glcbt- — rotate yours from the UI.)__", ""},
      {"gitlab-ci-job-token", R"__(echo glcbt-64_llnqVu5pw | wc -c  # too short to be a real one)__", ""},
      {"gitlab-feed-token", R"__(curl --header "PRIVATE-TOKEN: glft-rlcTzGxInkwSMFziAhdR" https://gitlab.example.com/api/v4/projects)__", R"__(glft-rlcTzGxInkwSMFziAhdR)__"},
      {"gitlab-feed-token", R"__(gitlab:
  url: https://gitlab.acme.io
  token: glft-tBE7OCf9U0HqirKEeDTl
)__", R"__(glft-tBE7OCf9U0HqirKEeDTl)__"},
      {"gitlab-feed-token", R"__(Tokens created after 16.0 start with glft- — rotate yours from the UI.)__", ""},
      {"gitlab-feed-token", R"__(echo glft-jjtSG4LpTdw | wc -c  # too short to be a real one)__", ""},
      {"gitlab-incoming-mail-token", R"__(curl --header "PRIVATE-TOKEN: glimt-iUle0SgRr3upudmSphgihzCcE" https://gitlab.example.com/api/v4/projects)__", R"__(glimt-iUle0SgRr3upudmSphgihzCcE)__"},
      {"gitlab-incoming-mail-token", R"__(gitlab:
  url: https://gitlab.acme.io
  token: glimt-URyopZ0AvqHHZYZJ4rdwLDYrs
)__", R"__(glimt-URyopZ0AvqHHZYZJ4rdwLDYrs)__"},
      {"gitlab-incoming-mail-token", R"__(Tokens created after 16.0 start with glimt- — rotate yours from the UI.)__", ""},
      {"gitlab-incoming-mail-token", R"__(echo glimt-9pIRy4rVcnPTL2KeqHcbtFqM | wc -c  # too short to be a real one)__", ""},
      {"gitlab-incoming-mail-token", R"__(glimt-G5czbmyJFFQKmweFFTH0LvRlH0)__", ""},
      {"gitlab-agent-token", R"__(curl --header "PRIVATE-TOKEN: glagent-YlhjzYDT8bgSDyDgVoE1luJP1ZVRgH3uIjSn23aXKx03bKKGzf" https://gitlab.example.com/api/v4/projects)__", R"__(glagent-YlhjzYDT8bgSDyDgVoE1luJP1ZVRgH3uIjSn23aXKx03bKKGzf)__"},
      {"gitlab-agent-token", R"__(gitlab:
  url: https://gitlab.acme.io
  token: glagent-WCcg0PNznJOrPytoiTUBQs7rmDEBD4SeGvgxsqk5TcLv5KCpFZ
)__", R"__(glagent-WCcg0PNznJOrPytoiTUBQs7rmDEBD4SeGvgxsqk5TcLv5KCpFZ)__"},
      {"gitlab-agent-token", R"__(Tokens created after 16.0 start with glagent- — rotate yours from the UI.)__", ""},
      {"gitlab-agent-token", R"__(echo glagent-AyFA9RJgwi1INjl7BBoqq1BZJ5gLEP | wc -c  # too short to be a real one)__", ""},
      {"gitlab-oauth-app-secret", R"__(curl --header "PRIVATE-TOKEN: gloas-Dt5WSuDVKzxWV0br78WsDvlOvJD6JXJY2FDGeCCYhz9H1V813uvxqOhgbi3AHZ4z" https://gitlab.example.com/api/v4/projects)__", R"__(gloas-Dt5WSuDVKzxWV0br78WsDvlOvJD6JXJY2FDGeCCYhz9H1V813uvxqOhgbi3AHZ4z)__"},
      {"gitlab-oauth-app-secret", R"__(gitlab:
  url: https://gitlab.acme.io
  token: gloas-BX0EoNoMqgCK3ZlvH8mTwNB0BnDQQFuomxVNS8M3JEeWlNeeCpiCSfLNawLnFmsy
)__", R"__(gloas-BX0EoNoMqgCK3ZlvH8mTwNB0BnDQQFuomxVNS8M3JEeWlNeeCpiCSfLNawLnFmsy)__"},
      {"gitlab-oauth-app-secret", R"__(Tokens created after 16.0 start with gloas- — rotate yours from the UI.)__", ""},
      {"gitlab-oauth-app-secret", R"__(echo gloas-JyPHQhfvMnny7mXfV2L0qMNWsr5U1Jn7TTwrxMIB | wc -c  # too short to be a real one)__", ""},
      {"gitlab-oauth-app-secret", R"__(gloas-gH2Odz1XU6AbiqWxncA5tHJitV5q2hjBiEhpY2iBLthZHjgXsiXgWVBUcHxFhle2bS7ufo has too many characters)__", ""},
      {"gitlab-pipeline-trigger-token", R"__(curl -X POST --fail -F token=glptt-db4e8181d304f000f6d46906e66f9d8bb55817e7 -F ref=main https://gitlab.com/api/v4/projects/42/trigger/pipeline)__", R"__(glptt-db4e8181d304f000f6d46906e66f9d8bb55817e7)__"},
      {"gitlab-pipeline-trigger-token", R"__(TRIGGER_TOKEN: "glptt-8a6ec015bac4e778c76c48c5c2029f7c3ddb565a")__", R"__(glptt-8a6ec015bac4e778c76c48c5c2029f7c3ddb565a)__"},
      {"gitlab-pipeline-trigger-token", R"__(Pipeline trigger tokens (glptt-) can be revoked from Settings > CI/CD.)__", ""},
      {"gitlab-pipeline-trigger-token", R"__(glptt-9JAl3IeEdvRVznwQ0BFKZZ4sjh8lkfEAl4O6f55z is not hex)__", ""},
      {"gitlab-runner-registration-token-legacy", R"__(gitlab-runner register --non-interactive --url https://gitlab.com/ --registration-token GR1348941Bg4T0FKo6-L0mWuG4JRo --executor docker)__", R"__(GR1348941Bg4T0FKo6-L0mWuG4JRo)__"},
      {"gitlab-runner-registration-token-legacy", R"__(REGISTRATION_TOKEN=GR1348941mMdsArVmI5FZnlpHiZN1)__", R"__(GR1348941mMdsArVmI5FZnlpHiZN1)__"},
      {"gitlab-runner-registration-token-legacy", R"__(Registration tokens that start with GR1348941 are deprecated.)__", ""},
      {"gitlab-runner-registration-token-legacy", R"__(grep -r GR1348941eNctoz8prHpm .)__", ""},
      {"npm-access-token", R"__(NPM_TOKEN=npm_Ca5XFqGvvU8hzx3ht1LPhVrm0pXXQ2IeDvva npm publish --access public)__", R"__(npm_Ca5XFqGvvU8hzx3ht1LPhVrm0pXXQ2IeDvva)__"},
      {"npm-access-token", R"__(Here is my token: npm_ZznKenu4s38v9PNl1M5pCuIPXY4868jKnhSq)__", R"__(npm_ZznKenu4s38v9PNl1M5pCuIPXY4868jKnhSq)__"},
      {"npm-access-token", R"__(Generate an npm_ automation token and store it as ${NPM_TOKEN}.)__", ""},
      {"npm-access-token", R"__(const npm_VPwrbl2oMHMUroZCZuSP = require('npm-registry-fetch'))__", ""},
      {"npm-access-token", R"__(npm_PGwEI2mN8XIzUtcOppuUtPIOUcUyXdt1xkfz_suffix)__", ""},
      {"npm-access-token", R"__("resolved": "https://registry.npmjs.org/npm_lifecycle/-/npm_lifecycle-1.0.0.tgz", "integrity": "sha512-3R5MfrRn0++uouOl4s9h3tJgB0rgwE4pepV2XALAiuNX260QLaWalm0B/PjHmsqmKGvJX+TVFu4ongplOBJZGx==")__", ""},
      {"npm-npmrc-auth-token", R"__(//registry.npmjs.org/:_authToken=npm_7qmeKYagzKCdLA2cXcVtRI5gpB5MoE849ynY
always-auth=true
)__", R"__(npm_7qmeKYagzKCdLA2cXcVtRI5gpB5MoE849ynY)__"},
      {"npm-npmrc-auth-token", R"__(@acme:registry=https://npm.pkg.github.com
//npm.pkg.github.com/:_authToken=1f0d3a7e-c8b3-4c2b-3eb8-a4c276179854
)__", R"__(1f0d3a7e-c8b3-4c2b-3eb8-a4c276179854)__"},
      {"npm-npmrc-auth-token", R"__(//registry.npmjs.org/:_authToken=${NPM_TOKEN}
)__", ""},
      {"npm-npmrc-auth-token", R"__(echo "//registry.npmjs.org/:_authToken=$NODE_AUTH_TOKEN" > .npmrc)__", ""},
      {"npm-npmrc-auth-token", R"__(Set _authToken= in your .npmrc file.)__", ""},
      {"npm-npmrc-auth", R"__(registry=https://nexus.acme.io/repository/npm/
_auth=ZGVwbG95OjROSmFUcW9wOWJmOUNW
email=ci@acme.io
)__", R"__(ZGVwbG95OjROSmFUcW9wOWJmOUNW)__"},
      {"npm-npmrc-auth", R"__(//nexus.acme.io/repository/npm/:_password="amVua2luczphQXZNOGQ1ZHZuWTZCYzRsckI="
//nexus.acme.io/repository/npm/:username=jenkins
)__", R"__(amVua2luczphQXZNOGQ1ZHZuWTZCYzRsckI=)__"},
      {"npm-npmrc-auth", R"__(_auth=${NPM_AUTH}
)__", ""},
      {"npm-npmrc-auth", R"__(if (cfg.basic_auth=== undefined) return;
const my_auth = aaaaaaaaaaaa;)__", ""},
      {"pypi-api-token", R"__(twine upload -u __token__ -p pypi-AgEIcHlwaS5vcmcGipJuyeBj4ikc47VeglxlM6LYB1cytNlrzRQ2K-jymSFOZRO7Ojl6Pxzr8mNXi7F743IfVSk7OOQq3OkKT_ovhEZDUQuu2zzltM-bRoDiP0LGz85BeCpRFFTLqly1XJCfi2v1EDKXNmsVBTdkpHSy21mrrFvcb0t dist/*)__", R"__(pypi-AgEIcHlwaS5vcmcGipJuyeBj4ikc47VeglxlM6LYB1cytNlrzRQ2K-jymSFOZRO7Ojl6Pxzr8mNXi7F743IfVSk7OOQq3OkKT_ovhEZDUQuu2zzltM-bRoDiP0LGz85BeCpRFFTLqly1XJCfi2v1EDKXNmsVBTdkpHSy21mrrFvcb0t)__"},
      {"pypi-api-token", R"__([testpypi]
username = __token__
password = pypi-AgENdGVzdC5weXBpLm9yZwPqDyAtk8x6s10GEWOvIg6K2UbW7JqOqglEoJHiLN0SEy7EsxBV77mWVgzMI5qX2A99gAz9exHWMZk_QANoz38hgGqgU_-u90-oPBt8ZaYhwrXZmd6pS3NPmiD6bREQYFmByoRXBA8928
)__", R"__(pypi-AgENdGVzdC5weXBpLm9yZwPqDyAtk8x6s10GEWOvIg6K2UbW7JqOqglEoJHiLN0SEy7EsxBV77mWVgzMI5qX2A99gAz9exHWMZk_QANoz38hgGqgU_-u90-oPBt8ZaYhwrXZmd6pS3NPmiD6bREQYFmByoRXBA8928)__"},
      {"pypi-api-token", R"__(PyPI tokens begin with pypi-AgEIcHlwaS5vcmc and are long.)__", ""},
      {"pypi-api-token", R"__(the pasted pypi-AgEIcHlwaS5vcmcqfUL9hvgFq_NO5TtFtrK is cut off)__", ""},
      {"pypi-api-token", R"__(pip install pypi-simple==1.5.0)__", ""},
      {"pypi-token-password", R"__([distutils]
index-servers = pypi

[pypi]
username = __token__
password = pypi-AgEIcHlwaS5vcmc8duhYw0HvKHm7YJ5SeVERiPot5dYHOxAjhPHKBKI24Trq2l29lt4IfCvnfVmJrO8qs0IREtMcst-m8XSCeRQ2xLwPDu33_wSQwfTshPo5HRcHFSf1aueVbqiURz7KxdtDEQCdTSTTcQKINyPpa9w_y
)__", R"__(pypi-AgEIcHlwaS5vcmc8duhYw0HvKHm7YJ5SeVERiPot5dYHOxAjhPHKBKI24Trq2l29lt4IfCvnfVmJrO8qs0IREtMcst-m8XSCeRQ2xLwPDu33_wSQwfTshPo5HRcHFSf1aueVbqiURz7KxdtDEQCdTSTTcQKINyPpa9w_y)__"},
      {"pypi-token-password", R"__(TWINE_USERNAME=__token__ TWINE_PASSWORD=waqNBBtbuX7SA6z5gUvdi8VOd01zo4bC twine upload dist/*)__", R"__(waqNBBtbuX7SA6z5gUvdi8VOd01zo4bC)__"},
      {"pypi-token-password", R"__(TWINE_USERNAME=__token__ TWINE_PASSWORD=$PYPI_API_TOKEN twine upload dist/*)__", ""},
      {"pypi-token-password", R"__([pypi]
username = __token__
password = ${PYPI_TOKEN}
)__", ""},
      {"pypi-token-password", R"__([pypi]
username = __token__
repository = https://upload.pypi.org/legacy/
)__", ""},
      {"docker-hub-pat", R"__(echo dckr_pat_t4lDJXwqvgveI993QOjtMFsIHCi | docker login -u acmebot --password-stdin)__", R"__(dckr_pat_t4lDJXwqvgveI993QOjtMFsIHCi)__"},
      {"docker-hub-pat", R"__(DOCKERHUB_TOKEN: dckr_pat_lgOSOXV8BInpCXY2ilH4PEKdFn9
)__", R"__(dckr_pat_lgOSOXV8BInpCXY2ilH4PEKdFn9)__"},
      {"docker-hub-pat", R"__(Use a dckr_pat_ token instead of your password.)__", ""},
      {"docker-hub-pat", R"__(docker login failed for dckr_pat_wAOFbn4nNVDxUgWvvZWn (truncated))__", ""},
      {"docker-config-auth", R"__({
  "auths": {
    "https://index.docker.io/v1/": {
      "auth": "YWNtZWJvdDpyWmxWSlVsSmQ5TER3d2dfSUxORGQwT0JuNnM="
    }
  }
})__", R"__(YWNtZWJvdDpyWmxWSlVsSmQ5TER3d2dfSUxORGQwT0JuNnM=)__"},
      {"docker-config-auth", R"__({"auths":{"ghcr.io":{"auth":"Qmma6WSh5VXb="},"gcr.io":{"auth":"X2pzb25fa2V5OmdXY1o1NVlJNXpBdVR1VGNpbVdDbXc2R1ZvUUhBQw=="}}})__", R"__(X2pzb25fa2V5OmdXY1o1NVlJNXpBdVR1VGNpbVdDbXc2R1ZvUUhBQw==)__"},
      {"docker-config-auth", R"__({"auths": {"ghcr.io": {}}, "credsStore": "desktop"})__", ""},
      {"docker-config-auth", R"__({"auths": {"ghcr.io": {}}, "credHelpers": {"gcr.io": "gcloud", "public.ecr.aws": "ecr-login"}})__", ""},
      {"docker-config-auth", R"__({"auths": {"registry.acme.io": {"auth": "${REGISTRY_AUTH}"}}, "digest": "sha256:bdd176c2bca1bca1c9df0a81482dda8526f9ed234f878a7d587d6d455d768e25"})__", ""},
      {"openai-project-key", R"__(OPENAI_API_KEY=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)__", R"__(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)__"},
      {"openai-project-key", R"__(client = OpenAI(api_key="sk-proj-BSdrD6LMbgUP3vgK6ZQD79NcLuSEjbRIbJ-ffsFVujZmqISj"))__", R"__(sk-proj-BSdrD6LMbgUP3vgK6ZQD79NcLuSEjbRIbJ-ffsFVujZmqISj)__"},
      {"openai-project-key", R"__(We split the task-management-service into task-proj-runner and task-proj-scheduler-worker-service.)__", ""},
      {"openai-project-key", R"__(The prefix sk-proj-oE3znOTF_E2rkGPLYpTw was all that was logged.)__", ""},
      {"openai-project-key", R"__(pip install scikit-learn  # sk-learn)__", ""},
      {"openai-service-account-key", R"__(export OPENAI_API_KEY=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)__", R"__(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)__"},
      {"openai-service-account-key", R"__(headers = {"Authorization": "Bearer sk-svcacct-FP0NDitzM-QIfXgH70fhJpsLuVssUXrkUKMwW44_ftduuVxHyOgo-Dqaerp6"})__", R"__(sk-svcacct-FP0NDitzM-QIfXgH70fhJpsLuVssUXrkUKMwW44_ftduuVxHyOgo-Dqaerp6)__"},
      {"openai-service-account-key", R"__(Create the sk-svcacct- key under Organization > API keys.)__", ""},
      {"openai-service-account-key", R"__(Only sk-svcacct-PfAfnS-E7tZYEoHB was printed.)__", ""},
      {"openai-service-account-key", R"__(risk-sk-svcacct-assessment-T0omuL7Fl9yJdZDVnQNMHjaNsGpfmTbBg5cmdVoAPWkD7Vj8XgNLXkcRMPHv)__", ""},
      {"openai-admin-key", R"__(export OPENAI_API_KEY=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)__", R"__(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)__"},
      {"openai-admin-key", R"__(headers = {"Authorization": "Bearer sk-admin-0oOBRA6K1bUVz9Ju450K2yqNPWr5ZEiPmhc8JVeA1vkzS25nFusL7GmVacsS"})__", R"__(sk-admin-0oOBRA6K1bUVz9Ju450K2yqNPWr5ZEiPmhc8JVeA1vkzS25nFusL7GmVacsS)__"},
      {"openai-admin-key", R"__(Create the sk-admin- key under Organization > API keys.)__", ""},
      {"openai-admin-key", R"__(Only sk-admin-NKgL7Nuzg2JJQRe9 was printed.)__", ""},
      {"openai-admin-key", R"__(risk-sk-admin-assessment-fFXgmlH7F1XYx41dGRbn4NovQwbFkSfqFtX9FHqBsEn4w32nqK5fEwKVZKzp)__", ""},
      {"openai-legacy-key", R"__(openai.api_key = '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')__", R"__(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)__"},
      {"openai-legacy-key", R"__(OPENAI_API_KEY=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 python chat.py)__", R"__(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)__"},
      {"openai-legacy-key", R"__(task-E5ojq6S178eXMJONjoGTT3BlbkFJ8saNc5vlDxEBb0L2iXOo)__", ""},
      {"openai-legacy-key", R"__(sk-lA9tMDf9jQ5vxV1UN1T3BlbkFJqKy88ySi5yu3lrDGiJq3)__", ""},
      {"anthropic-api-key", R"__(export ANTHROPIC_API_KEY=sk-ant-api03-qREkYDvNfaTn3EQ5zcAY9L3RkG1F0nSxRgj_OXWn4hZqgP-R0NHKcViPs7DH2_QKXPXBXZXW4j9zDl_GOLlBT2lfz5D7DAA
claude)__", R"__(sk-ant-api03-qREkYDvNfaTn3EQ5zcAY9L3RkG1F0nSxRgj_OXWn4hZqgP-R0NHKcViPs7DH2_QKXPXBXZXW4j9zDl_GOLlBT2lfz5D7DAA)__"},
      {"anthropic-api-key", R"__(client = anthropic.Anthropic(api_key="sk-ant-api03-DA0UzLmMpYi0kuVrGmvXvhwIXCU0WlzwrGVCwOtKV2XTAoBPKI8Fj8SG1GLn3QWWRnn4JuPNyCAIVzPsocaOvr-tf8SDfAA"))__", R"__(sk-ant-api03-DA0UzLmMpYi0kuVrGmvXvhwIXCU0WlzwrGVCwOtKV2XTAoBPKI8Fj8SG1GLn3QWWRnn4JuPNyCAIVzPsocaOvr-tf8SDfAA)__"},
      {"anthropic-api-key", R"__(Anthropic keys look like sk-ant-api03-... and are shown only once.)__", ""},
      {"anthropic-api-key", R"__(Console shows sk-ant-api03-vNA5AoBfTIM4 as the key hint.)__", ""},
      {"anthropic-api-key", R"__(ANTHROPIC_API_KEY=${ANTHROPIC_API_KEY:?missing})__", ""},
      {"anthropic-admin-key", R"__(curl https://api.anthropic.com/v1/organizations/users -H 'x-api-key: sk-ant-admin01-dbKY8vdqvfmfBBV3iTUnjLgCaHO1WAUZ_D1fwYjN4b6yoX6cNirwTo2ARSV39siw6abF6CdMQExW2WrgWuZkrmQSPun8oAA')__", R"__(sk-ant-admin01-dbKY8vdqvfmfBBV3iTUnjLgCaHO1WAUZ_D1fwYjN4b6yoX6cNirwTo2ARSV39siw6abF6CdMQExW2WrgWuZkrmQSPun8oAA)__"},
      {"anthropic-admin-key", R"__(The value is sk-ant-admin01-LuNF9XkllO9_dNZPgzUO3usn06OGf9P4dPhfhfGSS5bPcZ8qaTx8tpMoPTgAbCCom6H9vcZcEVU7NIZz6M4AA — please rotate it.)__", R"__(sk-ant-admin01-LuNF9XkllO9_dNZPgzUO3usn06OGf9P4dPhfhfGSS5bPcZ8qaTx8tpMoPTgAbCCom6H9vcZcEVU7NIZz6M4AA)__"},
      {"anthropic-admin-key", R"__(Tokens prefixed sk-ant-admin01- are issued by the console.)__", ""},
      {"anthropic-admin-key", R"__(The log shows sk-ant-admin01-wRWDAD5kisi4uU7Lp5f6 only.)__", ""},
      {"anthropic-oauth-access-token", R"__(Cookie: sessionKey=sk-ant-oat01-MNhM0gilHbBeVAPgmsGpEDkm2YopE43Ct64g5veQZyY53fkArrywWQdHGg09naYCzlY86jGW7gD33Sx8eJ-NfUtW3OzUVAA; lastActiveOrg=0f9e)__", R"__(sk-ant-oat01-MNhM0gilHbBeVAPgmsGpEDkm2YopE43Ct64g5veQZyY53fkArrywWQdHGg09naYCzlY86jGW7gD33Sx8eJ-NfUtW3OzUVAA)__"},
      {"anthropic-oauth-access-token", R"__(The value is sk-ant-oat01-ErcfTN4qFFkYg-p78N2W2Ie2jCWj9tjySrs2oAjLSpV1fygCluK1oSZOsQ2QsmMll38E8c2x9-Yq4x5gvp5AA — please rotate it.)__", R"__(sk-ant-oat01-ErcfTN4qFFkYg-p78N2W2Ie2jCWj9tjySrs2oAjLSpV1fygCluK1oSZOsQ2QsmMll38E8c2x9-Yq4x5gvp5AA)__"},
      {"anthropic-oauth-access-token", R"__(Tokens prefixed sk-ant-oat01- are issued by the console.)__", ""},
      {"anthropic-oauth-access-token", R"__(The log shows sk-ant-oat01-m2SUqGvm-AdjVhJUwQ0R only.)__", ""},
      {"anthropic-oauth-refresh-token", R"__(Cookie: sessionKey=sk-ant-ort01-DZqE1owROqnZUSUqil9beUXIlIxpwHgXeDKP9VwSBhWEQdLDIoOoprp2nZKpL1LSrxp3jLS1T19TyH5Ny7m6XD_rEIqw2AA; lastActiveOrg=0f9e)__", R"__(sk-ant-ort01-DZqE1owROqnZUSUqil9beUXIlIxpwHgXeDKP9VwSBhWEQdLDIoOoprp2nZKpL1LSrxp3jLS1T19TyH5Ny7m6XD_rEIqw2AA)__"},
      {"anthropic-oauth-refresh-token", R"__(The value is sk-ant-ort01--5vDiktwsnTrMKXUmvwpeSr_F0m9iET1LGBqoTe5aup6XYEZF71BFCwmnz9FXexcEQdvHJToQHVtQ3Li08FAA — please rotate it.)__", R"__(sk-ant-ort01--5vDiktwsnTrMKXUmvwpeSr_F0m9iET1LGBqoTe5aup6XYEZF71BFCwmnz9FXexcEQdvHJToQHVtQ3Li08FAA)__"},
      {"anthropic-oauth-refresh-token", R"__(Tokens prefixed sk-ant-ort01- are issued by the console.)__", ""},
      {"anthropic-oauth-refresh-token", R"__(The log shows sk-ant-ort01-VC0EhXOqWnh9fg2C98a6 only.)__", ""},
      {"anthropic-session-key", R"__(Cookie: sessionKey=sk-ant-sid01-KuX_hY68xfr-U2Iq8531TSsi6M1LGILL4vO6E-UeZpRHD4FL-9lzVS40LHGod-q4y4fvzxgBzEVW8rM7dkpsiuZDiPPZdAA; lastActiveOrg=0f9e)__", R"__(sk-ant-sid01-KuX_hY68xfr-U2Iq8531TSsi6M1LGILL4vO6E-UeZpRHD4FL-9lzVS40LHGod-q4y4fvzxgBzEVW8rM7dkpsiuZDiPPZdAA)__"},
      {"anthropic-session-key", R"__(The value is sk-ant-sid01-DvabzhKCA68bPSX9rYyWSiWpS4cFd0OhN3ijCkIeso0zXQPISt7IvYUH42MQXlFQ4QDnnbpJQnADcnCNLyfAA — please rotate it.)__", R"__(sk-ant-sid01-DvabzhKCA68bPSX9rYyWSiWpS4cFd0OhN3ijCkIeso0zXQPISt7IvYUH42MQXlFQ4QDnnbpJQnADcnCNLyfAA)__"},
      {"anthropic-session-key", R"__(Tokens prefixed sk-ant-sid01- are issued by the console.)__", ""},
      {"anthropic-session-key", R"__(The log shows sk-ant-sid01-x0IHwKKL7w9ieLiyMwgd only.)__", ""},
      {"huggingface-token", R"__(huggingface-cli login --token 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)__", R"__(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)__"},
      {"huggingface-token", R"__(model = AutoModel.from_pretrained("meta-llama/Llama-3-8B", token="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"))__", R"__(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)__"},
      {"huggingface-token", R"__(from huggingface_hub import hf_hub_download
path = hf_hub_download(repo_id='gpt2', filename='config.json'))__", ""},
      {"huggingface-token", R"__(hf_qZzNMfncoWrKyTqHrzZx88976476517981 has digits, so it is not a token)__", ""},
      {"huggingface-token", R"__(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_cache)__", ""},
      {"huggingface-org-token", R"__(HUGGINGFACE_HUB_TOKEN=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)__", R"__(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)__"},
      {"huggingface-org-token", R"__(headers={'authorization': 'Bearer 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'})__", R"__(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)__"},
      {"huggingface-org-token", R"__(Organization tokens (api_org_) are deprecated.)__", ""},
      {"huggingface-org-token", R"__(api_org_kxHJTeRmgsRfpuPtpxRc)__", ""},
      {"replicate-api-token", R"__(export REPLICATE_API_TOKEN=r8_78q4xTQ9gV5WD4JAMcWjBjQND0xUnHJVlnubM)__", R"__(r8_78q4xTQ9gV5WD4JAMcWjBjQND0xUnHJVlnubM)__"},
      {"replicate-api-token", R"__(replicate.Client(api_token="r8_LQgw4vG0oqXBzwjxGA9TC6Bq0vFQ1qeIQMsp0"))__", R"__(r8_LQgw4vG0oqXBzwjxGA9TC6Bq0vFQ1qeIQMsp0)__"},
      {"replicate-api-token", R"__(Replicate tokens start with r8_ and are read from REPLICATE_API_TOKEN.)__", ""},
      {"replicate-api-token", R"__(token r8_tTjgU8Whvi1QHoFU22iZycpqYW39JT was rejected)__", ""},
      {"postman-api-key", R"__(curl https://api.getpostman.com/collections -H 'X-Api-Key: PMAK-feff69d0c22663abb3c31eb1-fba720340162d5baf63956b783b01f6198')__", R"__(PMAK-feff69d0c22663abb3c31eb1-fba720340162d5baf63956b783b01f6198)__"},
      {"postman-api-key", R"__(POSTMAN_API_KEY=PMAK-47ee601a505cfe43636e99bb-648d61113438336abf69182c5fe63a1aa6)__", R"__(PMAK-47ee601a505cfe43636e99bb-648d61113438336abf69182c5fe63a1aa6)__"},
      {"postman-api-key", R"__(Postman API keys start with PMAK- and can be generated in account settings.)__", ""},
      {"postman-api-key", R"__(PMAK-2f9be9acd8270534bc4d6cda-02b08b4515c476d3a7d8)__", ""},
      {"linear-api-key", R"__(LINEAR_API_KEY=lin_api_fF6luUEcR6pSDQmCAtX4wcY9Pj36tQY1f0dlskMJ)__", R"__(lin_api_fF6luUEcR6pSDQmCAtX4wcY9Pj36tQY1f0dlskMJ)__"},
      {"linear-api-key", R"__(new LinearClient({ apiKey: "lin_api_iIkC9dXjJG4e9oEkWjtFH9vHcuXYSgBDJUsspdU8" }))__", R"__(lin_api_iIkC9dXjJG4e9oEkWjtFH9vHcuXYSgBDJUsspdU8)__"},
      {"linear-api-key", R"__(Personal keys (lin_api_…) are created under Settings > API.)__", ""},
      {"linear-api-key", R"__(lin_api_WMWcQGyOt098lKpZF7kduE0xyQgMGUIW)__", ""},
      {"linear-oauth-token", R"__(Authorization: Bearer lin_oauth_58d6ab16a22d874e47a56800bef7a953805fdcd89fbb2bd6baa1180ae458ad74)__", R"__(lin_oauth_58d6ab16a22d874e47a56800bef7a953805fdcd89fbb2bd6baa1180ae458ad74)__"},
      {"linear-oauth-token", R"__({"access_token":"lin_oauth_614bb64c3b37c46946ac7eaf022aa1d172c2e7d65e07147804353ef482e334b9","token_type":"Bearer"})__", R"__(lin_oauth_614bb64c3b37c46946ac7eaf022aa1d172c2e7d65e07147804353ef482e334b9)__"},
      {"linear-oauth-token", R"__(lin_oauth_0262ba6ca9e15d2d843c5ce88375fa7d664a9130)__", ""},
      {"linear-oauth-token", R"__(def lin_oauth_callback(request): ...)__", ""},
      {"notion-integration-secret", R"__(NOTION_TOKEN=secret_qR92Z1tPTZMoGFo4Lf90eRldybfF3Mtjz36NDhIbdgS)__", R"__(secret_qR92Z1tPTZMoGFo4Lf90eRldybfF3Mtjz36NDhIbdgS)__"},
      {"notion-integration-secret", R"__(notion = Client(auth="secret_RDGXiyO1OAeFL1gSZFKGLaTPq2sjLUIwpw93x1n7zYq"))__", R"__(secret_RDGXiyO1OAeFL1gSZFKGLaTPq2sjLUIwpw93x1n7zYq)__"},
      {"notion-integration-secret", R"__(client_secret_basic is the default token endpoint auth method)__", ""},
      {"notion-integration-secret", R"__(secret_q1boEKcq1s5BG2vsqOoLlSorc5t4iINNeZPnWFNw)__", ""},
      {"notion-integration-secret", R"__(client_secret_chIoV5UXn1bvhq5q2iVUth6eJw03hkjsVyJLRzpxA25)__", ""},
      {"notion-token", R"__(export NOTION_API_KEY=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)__", R"__(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)__"},
      {"notion-token", R"__(const notion = new Client({ auth: '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' }))__", R"__(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)__"},
      {"notion-token", R"__(ntn_eRFpnx8fYGGxKGW9GzpOfSPLoWUiNJl8b8tAHdsj2GCCTi)__", ""},
      {"notion-token", R"__(Notion tokens now start with ntn_ instead of secret_.)__", ""},
      {"airtable-pat", R"__(AIRTABLE_API_KEY=patqYeNtCJTd67HjY.7e8129cafa2de191af82ddf810830f4dadf2f755c8ec097841fda13c976003a3)__", R"__(patqYeNtCJTd67HjY.7e8129cafa2de191af82ddf810830f4dadf2f755c8ec097841fda13c976003a3)__"},
      {"airtable-pat", R"__(curl https://api.airtable.com/v0/appX/Table -H "Authorization: Bearer patTWj0X0o3nxvPDf.2cbdee5f7d9c235538e88ab135c24f28f4d6311551235eee33d008f34990d9a8")__", R"__(patTWj0X0o3nxvPDf.2cbdee5f7d9c235538e88ab135c24f28f4d6311551235eee33d008f34990d9a8)__"},
      {"airtable-pat", R"__(patXt487kAaNIq4NV.23e48c6b04fcc423c954c6ed6051a4d89dd2f23893eba0d860fe5bcbe91d is four characters short)__", ""},
      {"airtable-pat", R"__(patch skdCg4jC8PliqV.f225a3854e33cb0f726a6a264e68ae7a29558497879493d50ecec95c93268716)__", ""},
      {"airtable-pat", R"__(const pat = process.env.AIRTABLE_PAT;)__", ""},
      {"airtable-api-key-legacy", R"__(AIRTABLE_API_KEY=keyafs7c9SAjafKD1)__", R"__(keyafs7c9SAjafKD1)__"},
      {"airtable-api-key-legacy", R"__(const base = new Airtable({ apiKey: 'keyZopO3KQSHtqFbb' }).base('appe6eSSPzvUVoGDq');)__", R"__(keyZopO3KQSHtqFbb)__"},
      {"airtable-api-key-legacy", R"__(Airtable base appYO80SkEUfpLXhx, table tbliI1WNJgoLKhHDH, record rec96ti0J3iu2DpwE)__", ""},
      {"airtable-api-key-legacy", R"__(Airtable deprecated API keys; keyboard shortcuts still work.)__", ""},
      {"atlassian-api-token", R"__(curl -u alice@acme.io:ATATT3xFfGF02lF6aRAo80MrJAEEMBZB4P726BIafmBrV4KgGMZtOXcDxXsF5VlSpKh3u4LiOL6_mTldEhESrCZ8rF4heoYn_iUGpZFrIYOtkOnQXa_hnIaYG6OPGy2kcvTtpfuPfVWgafB7b6jE6tG3k81zG2m3x7rj6LiMyF4vjiR5PSds5P=7C47E5CE https://acme.atlassian.net/rest/api/3/myself)__", R"__(ATATT3xFfGF02lF6aRAo80MrJAEEMBZB4P726BIafmBrV4KgGMZtOXcDxXsF5VlSpKh3u4LiOL6_mTldEhESrCZ8rF4heoYn_iUGpZFrIYOtkOnQXa_hnIaYG6OPGy2kcvTtpfuPfVWgafB7b6jE6tG3k81zG2m3x7rj6LiMyF4vjiR5PSds5P=7C47E5CE)__"},
      {"atlassian-api-token", R"__(JIRA_API_TOKEN=ATATT3xFfGF0DRFEBz9C_d50iqBoOrWOk0E7jrusczEcS9ZL3FVtXf8SmpsEG4D0luMLN1TbV1VM8AAGkuIXI-9sYxo80NiFNz00vafCmuxvX04TIWChWIZBPV407RQKz_EEVGzSc9pz-axO4cYET9rk9ICKlD_u_TGDwVARb_Eq=9A42F361
JIRA_URL=https://acme.atlassian.net)__", R"__(ATATT3xFfGF0DRFEBz9C_d50iqBoOrWOk0E7jrusczEcS9ZL3FVtXf8SmpsEG4D0luMLN1TbV1VM8AAGkuIXI-9sYxo80NiFNz00vafCmuxvX04TIWChWIZBPV407RQKz_EEVGzSc9pz-axO4cYET9rk9ICKlD_u_TGDwVARb_Eq=9A42F361)__"},
      {"atlassian-api-token", R"__(Atlassian API tokens start with ATATT3xFfGF0.)__", ""},
      {"atlassian-api-token", R"__(ATATT3xFfGF0KQNFvMlEnRIbjLQVmirYl718uORdub)__", ""},
      {"atlassian-cloud-token", R"__(CONFLUENCE_TOKEN=ATCTT3xFfGF0PM-2JTDV4r4ThgdVZ3nMirsk2Af-eYPri4LBn4EtvezBbsXn21chv_AAwCXcmg3zRXwTHntGWC_zQwiK9Z1vSRr8GhSmI1QGhBTwcxD8Ib6sJrZYAcw61yP2v1VuUrGsjLoBGn74E4BMEi8LEVp1tX8k4q35rY-AFCPjF9StEe=9A1CD51F)__", R"__(ATCTT3xFfGF0PM-2JTDV4r4ThgdVZ3nMirsk2Af-eYPri4LBn4EtvezBbsXn21chv_AAwCXcmg3zRXwTHntGWC_zQwiK9Z1vSRr8GhSmI1QGhBTwcxD8Ib6sJrZYAcw61yP2v1VuUrGsjLoBGn74E4BMEi8LEVp1tX8k4q35rY-AFCPjF9StEe=9A1CD51F)__"},
      {"atlassian-cloud-token", R"__({"token": "ATCTT3xFfGF0LGuyG9au9LMjNsteT8VQj_lQ0YSl9xCdwY2JxWo34zEdeOXQkF9t9FwZUTHlSB83VOWBgt7d4r9zWVTWJih5PpuIFEAUOliJfTnWTjJYDxTaDRyBvCwHKJBY0Nr4_w2LApzR8ijeZun9DRl01JYayb=D61B1612"})__", R"__(ATCTT3xFfGF0LGuyG9au9LMjNsteT8VQj_lQ0YSl9xCdwY2JxWo34zEdeOXQkF9t9FwZUTHlSB83VOWBgt7d4r9zWVTWJih5PpuIFEAUOliJfTnWTjJYDxTaDRyBvCwHKJBY0Nr4_w2LApzR8ijeZun9DRl01JYayb=D61B1612)__"},
      {"atlassian-cloud-token", R"__(ATCTT3xFfGF0 tokens are shown once.)__", ""},
      {"atlassian-cloud-token", R"__(ATCTT3xFfGF0HZL88S4yzE3fPpp-EtMajVvcH-45ui_ZnNfyX9bD)__", ""},
      {"atlassian-api-token-legacy", R"__(export JIRA_API_TOKEN=X1zBxt1hXFHgZRb82GbsDZsr)__", R"__(X1zBxt1hXFHgZRb82GbsDZsr)__"},
      {"atlassian-api-token-legacy", R"__(jira.api.token=XdudJCIzwZX4S1lRQtWSd7XH
jira.url=https://acme.atlassian.net)__", R"__(XdudJCIzwZX4S1lRQtWSd7XH)__"},
      {"atlassian-api-token-legacy", R"__(confluence:
  url: https://wiki.acme.io
  confluence_token: "d5qqsUCxSDmLlElDqbzAoDbC"
)__", R"__(d5qqsUCxSDmLlElDqbzAoDbC)__"},
      {"atlassian-api-token-legacy", R"__(export JIRA_API_TOKEN=$JIRA_API_TOKEN_FROM_VAULT)__", ""},
      {"atlassian-api-token-legacy", R"__(Create the JIRA_API_TOKEN at https://id.atlassian.com/manage-profile/security/api-tokens)__", ""},
      {"atlassian-api-token-legacy", R"__(jira_token = aaaaaaaaaaaaaaaaaaaaaaaa)__", ""},
      {"jwt", R"__(curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4Mzc2Mjg5MTEzIiwibmFtZSI6IkFkYSBMb3ZlbGFjZSIsImlhdCI6MTc2MzcwMDAwMH0.3RF6Nvwqt60OxbWex9G0HKW6zGNRbhrTQn-cx5ca7qP' https://api.acme.io/me)__", R"__(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4Mzc2Mjg5MTEzIiwibmFtZSI6IkFkYSBMb3ZlbGFjZSIsImlhdCI6MTc2MzcwMDAwMH0.3RF6Nvwqt60OxbWex9G0HKW6zGNRbhrTQn-cx5ca7qP)__"},
      {"jwt", R"__({"id_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6ImE0YTgzNjBmYTliMjFiMjQifQ.eyJpc3MiOiJodHRwczovL2F1dGguYWNtZS5pbyIsImF1ZCI6ImFwaSIsImV4cCI6MTc2MzcxMjAwMCwic2NvcGUiOiJyZWFkOmFsbCJ9.kuNINOZMXDSWaY1Xdnl_ycdjLouq_Cl7ZFgAIzRKuTI3ug73Jvsc0vJekMiF41gPmUMXXNqz3vFdTC8tYsiVOMtxp7Rkrr0NGzIrEd-gbObTtZurK4yK18I5xYDbmSttEvTsElOn82FRZ56XiEdGPx1z9BAK-mc9kM4kL6Ck7Pltcg6TyH65cIUCA1REc-F042nl7UrGcKavZ8gg9KujUVHttha3OYov4apI0FYDMDOPxAGstdbEx30h7nB23iJqnT7TBn_qALgJ8jmJeOP8k1phgJpppH1rQzJuVz1JSLxneXn-LWt72hbNfSiPhG8Wl6m3hxoneBRJKrIRCiPIDY", "expires_in": 3600})__", R"__(eyJhbGciOiJSUzI1NiIsImtpZCI6ImE0YTgzNjBmYTliMjFiMjQifQ.eyJpc3MiOiJodHRwczovL2F1dGguYWNtZS5pbyIsImF1ZCI6ImFwaSIsImV4cCI6MTc2MzcxMjAwMCwic2NvcGUiOiJyZWFkOmFsbCJ9.kuNINOZMXDSWaY1Xdnl_ycdjLouq_Cl7ZFgAIzRKuTI3ug73Jvsc0vJekMiF41gPmUMXXNqz3vFdTC8tYsiVOMtxp7Rkrr0NGzIrEd-gbObTtZurK4yK18I5xYDbmSttEvTsElOn82FRZ56XiEdGPx1z9BAK-mc9kM4kL6Ck7Pltcg6TyH65cIUCA1REc-F042nl7UrGcKavZ8gg9KujUVHttha3OYov4apI0FYDMDOPxAGstdbEx30h7nB23iJqnT7TBn_qALgJ8jmJeOP8k1phgJpppH1rQzJuVz1JSLxneXn-LWt72hbNfSiPhG8Wl6m3hxoneBRJKrIRCiPIDY)__"},
      {"jwt", R"__(The header is base64url JSON, so JWTs start with eyJ.)__", ""},
      {"jwt", R"__(msg_01Lge9jhKh8laTEjgd53Uoq1 req_011y6ifmwVVk4ZyM1HM9n0ME 17d09696-df57-4953-a92a-d75f55ae56fc eyJhbGciOiJIUzI1NiJ9.e30)__", ""},
      {"jwt", R"__(data = 'eyJhIjo3ODAyODUyMDc4Njk2Mjc5NDE2MH0'  # eyJ base64 config, not a token)__", ""},
      {"jwt", R"__(integrity sha512-BL6TITxZH6vQxPoEX2ypekwMNZImLkzWazLKruqVu5v+T0jCGOLpkSPDMDAm/EE8gswuUHbmmB+/tPElXfsTrv==)__", ""},
      {"private-key-rsa", R"__($ cat ~/.ssh/id
-----BEGIN RSA PRIVATE KEY-----
MIIKCxflpL/e1aZ+Gxt6qn2HLtjlj32Dc/hPFQIfk41pe5KzQvDcKO5VllFVfrlGV8p
EIccwgwWpvK3warQd+m83aHAh7tTftx9/aG/9aAaeRA0iWneu9ZsacwRo0gEBZEi
TaDLaNvcLKyXtt1YwVdVnX0qpJcxByWRgXLtCNY9NiWQRs+O0CH11kOsmSrp5me1
uUNMmCMdL1rJNveG7b53fyIJ9rY//gAOnxTanZdzUgHDoAMLQlrEwWwWt3BwMSUi
2XBX9i9uV9UfmRTBdmAOYtaBqsiHcrl5d7X7xIRMVCQ0EorgQKIqJWMNfbgoOe7J
V8yJhsZkcyDsR0iowzfTZpvXX5E6R0NRvZZHYRiRM9BMi/DT+CN0H20lDDfVZn3/
eJ/Y9+qTu7cRaCY3RRqBX0DuwkyBwlZr4U1DIQ4HfP6r8QQO23GRnDYhi4kOCbLi
ws4pCXrAlM8cB9RncsnUZ7OEaRP0fFycKswH8mP9cySiAZrSlXoh02y2KdV0Vk1t
z7/rml7abPmLY3Bq+F7yYwr1AAWc41w3++gmbLMRKeRLDWeG7h7SLNWBZNG9Degv
C/YIcQZxVupQlC7070N5fOBn==
-----END RSA PRIVATE KEY-----
$ ls -la ~/.ssh)__", R"__(-----BEGIN RSA PRIVATE KEY-----
MIIKCxflpL/e1aZ+Gxt6qn2HLtjlj32Dc/hPFQIfk41pe5KzQvDcKO5VllFVfrlGV8p
EIccwgwWpvK3warQd+m83aHAh7tTftx9/aG/9aAaeRA0iWneu9ZsacwRo0gEBZEi
TaDLaNvcLKyXtt1YwVdVnX0qpJcxByWRgXLtCNY9NiWQRs+O0CH11kOsmSrp5me1
uUNMmCMdL1rJNveG7b53fyIJ9rY//gAOnxTanZdzUgHDoAMLQlrEwWwWt3BwMSUi
2XBX9i9uV9UfmRTBdmAOYtaBqsiHcrl5d7X7xIRMVCQ0EorgQKIqJWMNfbgoOe7J
V8yJhsZkcyDsR0iowzfTZpvXX5E6R0NRvZZHYRiRM9BMi/DT+CN0H20lDDfVZn3/
eJ/Y9+qTu7cRaCY3RRqBX0DuwkyBwlZr4U1DIQ4HfP6r8QQO23GRnDYhi4kOCbLi
ws4pCXrAlM8cB9RncsnUZ7OEaRP0fFycKswH8mP9cySiAZrSlXoh02y2KdV0Vk1t
z7/rml7abPmLY3Bq+F7yYwr1AAWc41w3++gmbLMRKeRLDWeG7h7SLNWBZNG9Degv
C/YIcQZxVupQlC7070N5fOBn==
-----END RSA PRIVATE KEY-----)__"},
      {"private-key-rsa", R"__(key.pem:
-----BEGIN RSA PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-128-CBC,4C38E368E956244D56AE4661ACB7D440

jXdiyu8nGe+YBDWyIx0+ItljvRJrfd2FJ9PPL3yCNgyNgpQBiXfv07waOU7EjXxI
CT9I+gyEfsVPUxZpNTswnUS6R9tJFIA4BKpmI28xxQ00rtr2Zh3tRMzBtL2zficY
LBsgUIqOJTlEvGQ8q6glD7NHA/N6GAurDeEqdo5qsImVMmsDSO9fBrX742uS3Svs
hJOhpJEIKQnDF0h9hV9rTJiTh51gv+E1t8Lc629+MrkszqfqjtlSox8ilWpmeRzC
EGoBaRmBMBctqxmj626SBJ38ncj9hnYLruk2arAC7zfpLprwV+xlMC+AQxRrY4Pr
uQIwDElXnpaPl6xYvzDPIxixLRSARsHjD66aVsNd7h8dVd7Rc8b9O3c9Ey2XEGJ1
HZ7i4KUP0bC51vXS
-----END RSA PRIVATE KEY-----
)__", R"__(-----BEGIN RSA PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-128-CBC,4C38E368E956244D56AE4661ACB7D440

jXdiyu8nGe+YBDWyIx0+ItljvRJrfd2FJ9PPL3yCNgyNgpQBiXfv07waOU7EjXxI
CT9I+gyEfsVPUxZpNTswnUS6R9tJFIA4BKpmI28xxQ00rtr2Zh3tRMzBtL2zficY
LBsgUIqOJTlEvGQ8q6glD7NHA/N6GAurDeEqdo5qsImVMmsDSO9fBrX742uS3Svs
hJOhpJEIKQnDF0h9hV9rTJiTh51gv+E1t8Lc629+MrkszqfqjtlSox8ilWpmeRzC
EGoBaRmBMBctqxmj626SBJ38ncj9hnYLruk2arAC7zfpLprwV+xlMC+AQxRrY4Pr
uQIwDElXnpaPl6xYvzDPIxixLRSARsHjD66aVsNd7h8dVd7Rc8b9O3c9Ey2XEGJ1
HZ7i4KUP0bC51vXS
-----END RSA PRIVATE KEY-----)__"},
      {"private-key-rsa", R"__(The file starts with -----BEGIN RSA PRIVATE KEY----- and ends with -----END RSA PRIVATE KEY-----.)__", ""},
      {"private-key-rsa", R"__(-----BEGIN PUBLIC KEY-----
JHMiphHH7alEfBXX/7rV09A4+E/+fh0dY7/pEddREgvwZhLQ5rrYxu7WdlRHXBQP
PbuUuQVop1dZ2hIfmSpy2Fl8/mVqcADAv8/aBZRH9ppVdKM066AisyqfZaSZawj/
NB/VHePK7QdzyGwNwZA+2JcaDZziqEtdj5ZNu317PGTlT3uc5c2mPlTsUcq4LZ5d
bCDXFCAG3dlbaczk4vmQcoZRryh9J9K70wR9TFKoilq586ZGQ//kDx6ct1Zbt4+i
bUuT2gXomLwq33954BdKERD30o5h1PVVhim5ncMc38P2
-----END PUBLIC KEY-----)__", ""},
      {"private-key-rsa", R"__(-----BEGIN CERTIFICATE-----
jXLgLlnK0UWd6dbwoNp6ja9+uLP7IxMoTHh5dRSQF2QquaInfri3SiDAa0KQCM+/
0FUsmoo6gW95RgoGCKIEbg0z6FoyIwkFkRp1mjmgeZoKj7J47lDjYKvC36IaREaI
XMHdkEZf46+zANr/VlCWi7xRbAw8HJrZIoyYv79FK/ApICJFW5mfJPOQ3xwACl3Y
Qt7X4gFmzpm5NU5IK5jciGbnslRC8ndgUWzP5PRFTqUoikQruZDjr7KTovPICW6q
K3Sto0PMix357WYBMT7hROh43b2He0+qccI0p0NA1ifN+w5c7CBHhwViMY46eOUx
irXYamWQcl+bwmPAA8VKnddue02tBmySgW4R1P6Gh3DZ4/obq37C6osOJwksKXhn
VC/0k8b7xE6md/KfIKsOuXEmbEvOmmrLBsG9TyXhhoME4VF6eyaXVJOyS0H0Nsoc
TnJV2sATKknt8eZPNNjO8evjtblHTj80K1mCy7SQc9iHRPJtkmWU
-----END CERTIFICATE-----
ssh-rsa AAAAB3NzaC1yc2EqHbACxLncdzaSZQn75+dB0oK6z/u6jpWYF6oHBBQZw6kBkFlZmmOMTNwu6OthVR0BfQ2pcGMmnG1Jlq7NL9s3djGC4k8xPSoHrQ64SDWIM6u+CnAYGrlTjJtPpe31d8IFF9iwD9JlHC/uhWiuT5iqDGyW6X9C+VhlxyjkFG9cl3ZmQTA4hoiw/lLYYHRD2mroaf7qJKd alice@laptop)__", ""},
      {"private-key-ec", R"__($ cat ~/.ssh/id
-----BEGIN EC PRIVATE KEY-----
MII57G6HtmeZfNXGyMRo5hTPhlNI83Jj0lcnPycEh3awWe4ILVlhe7U4M7MxrS+z7ls
T8/oqs72VD8sDSioNmyu8uLqSlBd4dh1pqt9bCIhGUb1kixrQWWJjDuWJl58c72x
EHNVF+64xB4bI5JcD9hEw6xTVBesRfzBUWA5E0pDjQS6otrCXgktraZweXbovKVN
q7lWVYrV03wAA/4j98iCQSVhzmGgceNR5H8S0lXV/nwm265oPsmuvYElsmw79zYE
Fsm6qRjwr9JKz8J76rDGBWpOGRbVQ5mEl1g16FS0xHfEmMiLBw9q9xvZz6FfdRUx
cL+4RiKinEkUAVmtzkzk6yExnbBbKPdAlFj+HVgvCWltQX7D0M5Pfg/VIgT+8epS
yi1W+40cFmHG+FvYarD9JEOnEePlVSyt5xYltpHe8Pbpflwzz/riCbQOldS3cDRD
Ovw0am+6roJJ7k+IXsXtd+p8q7h+2GdQDyvWaEKdkcJMHLrdv7OhK8A+q1s+fjQj
2UscpGZ33kbmPxShs57UzQF3K/HQ4iVb+kuL2KCpicYOmxhckBHzsx1QoSVMPmhI
ozDZyXQ+xe+ngUhyPy8tgKCk==
-----END EC PRIVATE KEY-----
$ ls -la ~/.ssh)__", R"__(-----BEGIN EC PRIVATE KEY-----
MII57G6HtmeZfNXGyMRo5hTPhlNI83Jj0lcnPycEh3awWe4ILVlhe7U4M7MxrS+z7ls
T8/oqs72VD8sDSioNmyu8uLqSlBd4dh1pqt9bCIhGUb1kixrQWWJjDuWJl58c72x
EHNVF+64xB4bI5JcD9hEw6xTVBesRfzBUWA5E0pDjQS6otrCXgktraZweXbovKVN
q7lWVYrV03wAA/4j98iCQSVhzmGgceNR5H8S0lXV/nwm265oPsmuvYElsmw79zYE
Fsm6qRjwr9JKz8J76rDGBWpOGRbVQ5mEl1g16FS0xHfEmMiLBw9q9xvZz6FfdRUx
cL+4RiKinEkUAVmtzkzk6yExnbBbKPdAlFj+HVgvCWltQX7D0M5Pfg/VIgT+8epS
yi1W+40cFmHG+FvYarD9JEOnEePlVSyt5xYltpHe8Pbpflwzz/riCbQOldS3cDRD
Ovw0am+6roJJ7k+IXsXtd+p8q7h+2GdQDyvWaEKdkcJMHLrdv7OhK8A+q1s+fjQj
2UscpGZ33kbmPxShs57UzQF3K/HQ4iVb+kuL2KCpicYOmxhckBHzsx1QoSVMPmhI
ozDZyXQ+xe+ngUhyPy8tgKCk==
-----END EC PRIVATE KEY-----)__"},
      {"private-key-ec", R"__({"type": "service_account", "private_key": "-----BEGIN EC PRIVATE KEY-----\nLmOf3MmJEUrxnrIFOzJ+TADvu/jscoztzZeC6O/F3/yl12BX13wwqczfvKlAs+OO\nEf883AWN/BBEnKsRnXuhAaKuOJc+smtqnMzBSuFxYEBCUAaQbhv9FNiMQk52GvFi\nmJL2X8ziKBMQbHoxTFy6DZgATWsoijHs2IaT0ZIqN3G7dxa7sXyeKjKxaa6kAZrc\nmbJtvF+tCWhrbqybOxIWlbl6xozvfw60refYZHtPgoMxG9gsXi33E0kayJnkrNi3\nyooSpqzYnafh93DjYMdoDiiToqRfhIAU8Ogi973bXtm2\n-----END EC PRIVATE KEY-----\n", "client_email": "svc@acme.iam"})__", R"__(-----BEGIN EC PRIVATE KEY-----\nLmOf3MmJEUrxnrIFOzJ+TADvu/jscoztzZeC6O/F3/yl12BX13wwqczfvKlAs+OO\nEf883AWN/BBEnKsRnXuhAaKuOJc+smtqnMzBSuFxYEBCUAaQbhv9FNiMQk52GvFi\nmJL2X8ziKBMQbHoxTFy6DZgATWsoijHs2IaT0ZIqN3G7dxa7sXyeKjKxaa6kAZrc\nmbJtvF+tCWhrbqybOxIWlbl6xozvfw60refYZHtPgoMxG9gsXi33E0kayJnkrNi3\nyooSpqzYnafh93DjYMdoDiiToqRfhIAU8Ogi973bXtm2\n-----END EC PRIVATE KEY-----)__"},
      {"private-key-ec", R"__(The file starts with -----BEGIN EC PRIVATE KEY----- and ends with -----END EC PRIVATE KEY-----.)__", ""},
      {"private-key-ec", R"__(-----BEGIN PUBLIC KEY-----
9uncg6NcVtFluMdYrtH+fRV/pPUYaVCjUKf27hbtBm0uK94nQ752jvpmqbL+MO5a
oy8Oj40snQ44R58iYfWY6KmOUjHALnjot2MEa3P99tR5erZRHaUjev+zJJi1PPAU
UItN00CFASZyuybxnh6RzTbYqiBBcbFdlp0kwCMsI6UvQiMmXBwlObgtd0HoxKcu
P+W73pqQayTNRxseGh8c04i+sgYgN6+3GIRntz8ojdtOY1sVpz6y7DMhv5jvZrzP
nl4RfkwpmRcxtcTqPJKkvJKHx7ueeNjqnw8iJO/XXkHD
-----END PUBLIC KEY-----)__", ""},
      {"private-key-ec", R"__(-----BEGIN CERTIFICATE-----
NWrIU+1IEGSuxaDN70bn+hVG6cJVRi4bL4LKm56u0Pjd02bUkDvdpi58G7wrYN5m
csCkpOzJhjVETgoVQHJgVgksPeO3/wXhO0wvEQHIP6L1C3bxQguTeuItN7KUSX6P
2z3CbYF5Nw1JicQGb1aj+hKs+fVCijPTXSe7YY4KOgwQc3ZYO9BwKo/AOtfVxICX
nX0/PwwWW0r7ghcsZ1tMN6929/cK7pbrwW9e+Jzglq5r/AXFZJr9DV6LsdM70YNC
E6IgM7XPMRQwmVNz4MCPIQQjcxN/TJJV4EAiPFmOx5qKOcMK6Tz7F0VmpkeU9/GX
s+WzKOxNYsggBpqhIqpfO4CdZycLP5bZHT27s+ldOO3HZaOqeI2mgvnEBrEQtJrS
PFAJkv409++BK/qY64cogp4Op+KnlRPlsOhc7YAPvLH2RD5s9eMo+7beBifGnMyH
1eLYzHdyyc6weN6+Cv6AHRxJqZsK2MBUU3aN6Yu+lDfE6tXkYtzA
-----END CERTIFICATE-----
ssh-rsa AAAAB3NzaC1yc2Ew9XxG9Vv3YTBoe/HDd5VgpBbMJbIYGaqdj/ZoL6nYPIFrGqTPjsR8bqdsqEL0HR9gUhSvJu6ECcsAofEALpwCzwVCTxX8ayxUUZ9znH8zTD6TnMBJrMH5nUCvClCmBvjsXF1xSIJF8cPgpasPHd5JFXCXttHaac6+S21+Rrj1dyCST/V6LvpEkbSLm9IzsgqeQnqImWd alice@laptop)__", ""},
      {"private-key-dsa", R"__($ cat ~/.ssh/id
-----BEGIN DSA PRIVATE KEY-----
MIIC8F3fEzxws9OjhIFuy4HVtM2tyMkXOc3AYdDVUJJ11ViztS03dBaVFHP5oSdCc7E
Au1+qoCpWMgWJnhsFmfpmmPYdy3xxgNZmm+UmMRxDBSYnm5IpvQpGYqQ7rmv/e1j
5fTsVgj1QTP/7QJxu/bhaxLwhsTAR3vLgvY45O+wXhqKADG6gp89YHEL/E6FtQ+m
4bV7yriSccvjWFBoUWcYDEdKpkZcOMujUIibJ0DP0I1EpxjcoJNsSWVJYP6aGEYE
BnJM4nWebVJEIVfxwwMsVaZZOFwsOVMqd4dbe5Pf1qROmj0jKPxCV61fALN5g/YD
UODvslImBjI3L0C/ljicNtNC8vis8qg7f4W2ppBtZYXhahs93ly7pBREJAEp3u+j
/aAKzbBE3tcOqpe0FynXbtQaq833cqdSqQyn8QGQgyz3AWlsbreWC/+g3PaO5LUu
7E+hkOlR0aDiU07y8tlFqwGOVyJXZkHw8UVrTf12twQsR6LmA//qpG78Sxnfkdx3
7R02SNjN2RKqAN7eTCKCSXE+uk9xIlavDDFiAk0i8myPRUWh3PzLMsQuMMF+qs4N
DjCczIxs9/ZoREb70bHCxrgN==
-----END DSA PRIVATE KEY-----
$ ls -la ~/.ssh)__", R"__(-----BEGIN DSA PRIVATE KEY-----
MIIC8F3fEzxws9OjhIFuy4HVtM2tyMkXOc3AYdDVUJJ11ViztS03dBaVFHP5oSdCc7E
Au1+qoCpWMgWJnhsFmfpmmPYdy3xxgNZmm+UmMRxDBSYnm5IpvQpGYqQ7rmv/e1j
5fTsVgj1QTP/7QJxu/bhaxLwhsTAR3vLgvY45O+wXhqKADG6gp89YHEL/E6FtQ+m
4bV7yriSccvjWFBoUWcYDEdKpkZcOMujUIibJ0DP0I1EpxjcoJNsSWVJYP6aGEYE
BnJM4nWebVJEIVfxwwMsVaZZOFwsOVMqd4dbe5Pf1qROmj0jKPxCV61fALN5g/YD
UODvslImBjI3L0C/ljicNtNC8vis8qg7f4W2ppBtZYXhahs93ly7pBREJAEp3u+j
/aAKzbBE3tcOqpe0FynXbtQaq833cqdSqQyn8QGQgyz3AWlsbreWC/+g3PaO5LUu
7E+hkOlR0aDiU07y8tlFqwGOVyJXZkHw8UVrTf12twQsR6LmA//qpG78Sxnfkdx3
7R02SNjN2RKqAN7eTCKCSXE+uk9xIlavDDFiAk0i8myPRUWh3PzLMsQuMMF+qs4N
DjCczIxs9/ZoREb70bHCxrgN==
-----END DSA PRIVATE KEY-----)__"},
      {"private-key-dsa", R"__({"type": "service_account", "private_key": "-----BEGIN DSA PRIVATE KEY-----\nCjH861ZuXR23GKydBEaUXR6x/PbTv/ib/PnaTQPhcxAuZmQ6yjcnlP6W5JURYUti\nawYjFmrSzyCM6C0pSpOeSw9b3SepcZ3hd2IUhPdmcI9RZhW23NzjDWFLB7Cujxa5\nX/4fzm1FwtbwJ9yQ7ZzGysUqntukHN+fggTRcH4+Gu2+pe9lSFHVzZ9kALp7ItKp\nMXby4MTora7kKbit94BxENnjsvYSz2ZjQBeKdgJ1n4MZ3ZRB8X/t5N8NCzL1K0nm\nxhdsVjbJWkcSt65dtNrr9kuDIiOiDvtUO+nEm5VbMP3C\n-----END DSA PRIVATE KEY-----\n", "client_email": "svc@acme.iam"})__", R"__(-----BEGIN DSA PRIVATE KEY-----\nCjH861ZuXR23GKydBEaUXR6x/PbTv/ib/PnaTQPhcxAuZmQ6yjcnlP6W5JURYUti\nawYjFmrSzyCM6C0pSpOeSw9b3SepcZ3hd2IUhPdmcI9RZhW23NzjDWFLB7Cujxa5\nX/4fzm1FwtbwJ9yQ7ZzGysUqntukHN+fggTRcH4+Gu2+pe9lSFHVzZ9kALp7ItKp\nMXby4MTora7kKbit94BxENnjsvYSz2ZjQBeKdgJ1n4MZ3ZRB8X/t5N8NCzL1K0nm\nxhdsVjbJWkcSt65dtNrr9kuDIiOiDvtUO+nEm5VbMP3C\n-----END DSA PRIVATE KEY-----)__"},
      {"private-key-dsa", R"__(The file starts with -----BEGIN DSA PRIVATE KEY----- and ends with -----END DSA PRIVATE KEY-----.)__", ""},
      {"private-key-dsa", R"__(-----BEGIN PUBLIC KEY-----
tspoPTAkvkslRm93v5v8Tg8m7x64oCP/f/6MQVyyhgqvP/GnXt43st920QYcF0tA
w2nA3F0ZaYssg6LwKSvi8DPYoaZC9uXK5l/6AjsFiKskrP/pMDKbBCUrbSgQ7eWZ
QHHfcmxE6iAuWXatroN8GedinxjKc7XUqUdtWbwGk4+jWJSFNWSrWiP9UhPeWo8H
Gu/v/QcBqxJHhF6QMIrJt5qTPrecQKtWK2XN0Yj22XQFvoTUgdNZ50x8CbAL05RB
8bx+oMc+QAn3Hjr+SrhhKsNrpwu0EhtKFUJoXAkrhff1
-----END PUBLIC KEY-----)__", ""},
      {"private-key-dsa", R"__(-----BEGIN CERTIFICATE-----
OLsXP4NVIZ0VOPMiYUMw1JK43uGQbXn4nnMzBVvtjjvN+/JjlmveUczq82JC0KV/
b2UQ1tdG5lRMGBf/xt7h7JRfSacIlOp+jEEPmx2CCbTPb+BBsZkOe3r8oh/nPgE+
B2w+DZL4HFHll9DbS0Q/zQrkyp/3zf7OMcTsr1dUWCarbJK5vJWpzB6mlalfCnVm
lrIrjHcg3ItzceZr6ZhincseRTO6CjG6Z7RhPOGFQCKLo78PRgW74uHVLAImIxc4
99BUqjTf8OecBnS2w4H0NXNdJho9rQadeZR1NVq3In0RjsgPhd62KPseFwh3J+V7
Nd5hHwk6opWlMGiA2pqDkttPyYwHi4Q/GiE9mmvLK4mONFqE6/ZG+Ha8czN0bXo+
+HUPZTCrvQGLgmZsnPqVyQymL2TVlKcyGWVS1+klchbN+OkLQfqkSBWVxsXrARz2
D12zIGTZeASrUeMkIlaHcX25C6Gmuud6SvyJFLDvvhaLsqk/iUuj
-----END CERTIFICATE-----
ssh-rsa AAAAB3NzaC1yc2EU1NdXZuADct5IZq67d7j6iKBjeWLn9oHCsN5o/vuB3QEE6NHXx98LF9xRPhFR6JCyFMZ0d9q/VZPXspHlvn/kKS0jqJ7LUA2xRbtUnOL2LqfgwBlVTZxyxYlGMhp7mW5ERN6KEtQFKLhUqB/02le2foAQb8AuAfuTk8ku21+uDYYLUo8tFObeACfyJBdLqnbhNcZnK0u alice@laptop)__", ""},
      {"private-key-openssh", R"__($ cat ~/.ssh/id
-----BEGIN OPENSSH PRIVATE KEY-----
MIIbG4QoT0mwIFUn+SSwAx+973AhNkhOaq72mkM2Olg9OKH+xOYD5tGsncVNq/0hAyW
7tbRgPzn0ZXw7mH0rQORcLbGjcJ4/lSYBisgodHicDZ+EH63Z7VjHVdTei6y+k7A
uqDOMEk+XFavRI6uqO2iv/xtGO43H6hOAn2A+sJKZkKhO4sbvGj5oeeeJQciBd6e
P/vGIkdIWrIBmxLwStey2nRamYIGCayC4IBoQ62b+RB0yAqgk1iJd/XVIFKN4Q23
GKf1PV/ab3JMyVJm+6Won0vv/o6Ldk1iDgjC8tapLcLCQOL9MHEVa7xHMt0xE9Nj
qw4ePuXPMrn8b5PlqFPqW8YBCC0eIz+WtmMcUobCYqo7bIC2L+tPEzmZ94ESPfEW
M290TROLG8+YltwP5KzNEjWl3IH0WkJ20iOgCikdpp1WrGIVo999tmlCQuY4WHwf
Z0rKKVBWGHsDG1yXoFhGGYbXfZTyfG+4LeemhdSPH74TsCWVcYJ53sIJThOq8dcJ
Kq8zDCL4xuG6JsjkEF5h80+pfP3hEr5L72i1jb+xql5zZq1pCV5wdTgOkzA7NDSw
YXSU5D+NJqZ8Yv0MIdaEKo0f==
-----END OPENSSH PRIVATE KEY-----
$ ls -la ~/.ssh)__", R"__(-----BEGIN OPENSSH PRIVATE KEY-----
MIIbG4QoT0mwIFUn+SSwAx+973AhNkhOaq72mkM2Olg9OKH+xOYD5tGsncVNq/0hAyW
7tbRgPzn0ZXw7mH0rQORcLbGjcJ4/lSYBisgodHicDZ+EH63Z7VjHVdTei6y+k7A
uqDOMEk+XFavRI6uqO2iv/xtGO43H6hOAn2A+sJKZkKhO4sbvGj5oeeeJQciBd6e
P/vGIkdIWrIBmxLwStey2nRamYIGCayC4IBoQ62b+RB0yAqgk1iJd/XVIFKN4Q23
GKf1PV/ab3JMyVJm+6Won0vv/o6Ldk1iDgjC8tapLcLCQOL9MHEVa7xHMt0xE9Nj
qw4ePuXPMrn8b5PlqFPqW8YBCC0eIz+WtmMcUobCYqo7bIC2L+tPEzmZ94ESPfEW
M290TROLG8+YltwP5KzNEjWl3IH0WkJ20iOgCikdpp1WrGIVo999tmlCQuY4WHwf
Z0rKKVBWGHsDG1yXoFhGGYbXfZTyfG+4LeemhdSPH74TsCWVcYJ53sIJThOq8dcJ
Kq8zDCL4xuG6JsjkEF5h80+pfP3hEr5L72i1jb+xql5zZq1pCV5wdTgOkzA7NDSw
YXSU5D+NJqZ8Yv0MIdaEKo0f==
-----END OPENSSH PRIVATE KEY-----)__"},
      {"private-key-openssh", R"__({"type": "service_account", "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nti/HGFVD7wBij6XPU4OEIc0wYYdyPRPFcSnXfWDgR1C3FQcG0mMpsr4ay/B0QkWj\nJGzJ8KDUCi8diVrIg1Grd6vWBiNWFZxn/2CUOD8GZEa59HHx6gQLkPTLhXDbtnVz\naPB3IDCibI7/9cdEn5kpvrXijEtztXx5zWSecYwXauh+4e0jrQ89HpPhXBQ8kLNn\nzkQuEAf4RqRc70Es1WMSJQwQmEifnkVVjWJwUPdNwyhsT8sVVHi4ujHgHHYHNXFR\ngroFC8GMOjUoirxtwWFJmk5VnISWA1gvyRnyw3ZySCZh\n-----END OPENSSH PRIVATE KEY-----\n", "client_email": "svc@acme.iam"})__", R"__(-----BEGIN OPENSSH PRIVATE KEY-----\nti/HGFVD7wBij6XPU4OEIc0wYYdyPRPFcSnXfWDgR1C3FQcG0mMpsr4ay/B0QkWj\nJGzJ8KDUCi8diVrIg1Grd6vWBiNWFZxn/2CUOD8GZEa59HHx6gQLkPTLhXDbtnVz\naPB3IDCibI7/9cdEn5kpvrXijEtztXx5zWSecYwXauh+4e0jrQ89HpPhXBQ8kLNn\nzkQuEAf4RqRc70Es1WMSJQwQmEifnkVVjWJwUPdNwyhsT8sVVHi4ujHgHHYHNXFR\ngroFC8GMOjUoirxtwWFJmk5VnISWA1gvyRnyw3ZySCZh\n-----END OPENSSH PRIVATE KEY-----)__"},
      {"private-key-openssh", R"__(The file starts with -----BEGIN OPENSSH PRIVATE KEY----- and ends with -----END OPENSSH PRIVATE KEY-----.)__", ""},
      {"private-key-openssh", R"__(-----BEGIN PUBLIC KEY-----
VPdC6dlrvODlgc4iAFzE9LFOshORWe8O2wc10DMguPinZriqMuzmoxxV8oMM1MH2
QPRL8XHG70tXgMn97MUAGNgNff+KvMUDAt/eN5pGUnzXzO8MstU1RQL8hO5G99Bi
P3vmerb0Hgg8Cvz4/vzPVJ8TPqMMIAgf4HiK4RI5n3IC96Fgug+euOTSMd5mvCiV
/XETV1BOOKxMjl6Xyvr5J3TlT6DPGXPmnFWjnw4KrZWi1HmEEZYVnJg7tpCQ4nsF
uoQpYD7eL0azFzmmk9SYSWGKgNtZcO3+sdnTXUJmzd14
-----END PUBLIC KEY-----)__", ""},
      {"private-key-openssh", R"__(-----BEGIN CERTIFICATE-----
nmUh25t6rArC4I0qHqU06JZU/8rYMp2P5yzvuv+3acgG8fz4zYNjmefOCjh0uw8F
5ME9/3EsG8E383WXHxDZvmf+lB5OocIzc1mw8SS5St8305mpIifRTqKurDOY4wFd
GfQKFAqy2+FPeHs1HbNDtWbP34C5A5p0/aB0I4kRGjSC/UebpSv06xFjCDVLaxdc
5Etc/aXuFp9vQxqJ81l7dm38GHrj6LWcUj2NnwsP827GjInEN16ZdA0oxGbAx5Qb
JBqx175/EWq7rzuS9Xa+CVAJSn4UbOo1Ro8oFLSj4EamiJ73bDaObvXsqC5eqY1T
au32JvPq2TNm3lDxFc4Wh51mjvAvQISW7JVa7h7k7qmc7Er6fJAN1oXZqIxvQ3YI
fDZDDRP5+GlVXmemvAw5icnjAPi6+7FXjieA/c4YFEcBIZT8721BXeL6Cayhwx82
EzVIcGWn3Gmy6l7VyamVL0Yc/ofLVOYrY+JktpOrC8tyEN71wEP4
-----END CERTIFICATE-----
ssh-rsa AAAAB3NzaC1yc2ExcmBs99lveSOiw3bEL1enC7Fs2mCw1u7HA6j44Vs4UciDmOQRiK2axVLqNfspbgUjp0+lnt57CsdcP3xzNRgcTE81I5tH4eeCO1oiBzODBdK1toJg9rz2fMzRuxzhvTBmBaaRb+xAORj2XwaRhihW8LaBM/67MBDICGT39R2BnREDz8tLDxTW4/b3DKkzd8V1O85aAKP alice@laptop)__", ""},
      {"private-key-encrypted", R"__($ cat ~/.ssh/id
-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIqcrryPQEN/YLvNsHUs7rq6FJP1d1Nf5jpVTRziEcAQFMG3qLQ95if88WnbTqIdxA
f98yzuurxemPZWPNt6qi3eearg95q97Qtxce0VlBbI8ojjkMcsD8Sr8nviJmmOG4
O0q7r34ybveYfermJ4ScUE+zvniD5KVYmN536KGaKqrv8UCPs6UBcjbh5j9I2jR8
PJXWByIaQ0T0+5z/OqqcQqN/z9wMWSzfIC5AmpeKoXqrdpWBpwlZIVL4XunJ4BcV
Mf6XkKsMBgRVkXjozrVnu/zvMVd9gj8mdI4v1ANK11A5eWies+mFVHrK3hspxqg5
0XXFuD7Y4hecU84hgrq+sXtMgRBKsYIPIAw8ZERb+mqhmK1vJ55I/db+QQ4auPDz
zuaHazE5KdSzl7RsJJIRwEF8+Djet3Fw2Hlz/ppxNmcra6yxno5//YZ85hbHpkiS
hSOwKvryKL9bBGaG4/tdkMfClvraAuAc4ASiw91S4Iv26kYdne9EaFCtcmFoxs2e
MtCUy6UMZateEF3upM3NFM82VIQkN64oInOy2QwMOK8s8g6wfhQtxkZ5uNsaHeic
fmemIwERYGuDK6TH91OaVfsd==
-----END ENCRYPTED PRIVATE KEY-----
$ ls -la ~/.ssh)__", R"__(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIqcrryPQEN/YLvNsHUs7rq6FJP1d1Nf5jpVTRziEcAQFMG3qLQ95if88WnbTqIdxA
f98yzuurxemPZWPNt6qi3eearg95q97Qtxce0VlBbI8ojjkMcsD8Sr8nviJmmOG4
O0q7r34ybveYfermJ4ScUE+zvniD5KVYmN536KGaKqrv8UCPs6UBcjbh5j9I2jR8
PJXWByIaQ0T0+5z/OqqcQqN/z9wMWSzfIC5AmpeKoXqrdpWBpwlZIVL4XunJ4BcV
Mf6XkKsMBgRVkXjozrVnu/zvMVd9gj8mdI4v1ANK11A5eWies+mFVHrK3hspxqg5
0XXFuD7Y4hecU84hgrq+sXtMgRBKsYIPIAw8ZERb+mqhmK1vJ55I/db+QQ4auPDz
zuaHazE5KdSzl7RsJJIRwEF8+Djet3Fw2Hlz/ppxNmcra6yxno5//YZ85hbHpkiS
hSOwKvryKL9bBGaG4/tdkMfClvraAuAc4ASiw91S4Iv26kYdne9EaFCtcmFoxs2e
MtCUy6UMZateEF3upM3NFM82VIQkN64oInOy2QwMOK8s8g6wfhQtxkZ5uNsaHeic
fmemIwERYGuDK6TH91OaVfsd==
-----END ENCRYPTED PRIVATE KEY-----)__"},
      {"private-key-encrypted", R"__({"type": "service_account", "private_key": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nzSceaTkbYxVlRwqH42xQOb7T6fncZ8IBjD5SHqbyQLiD8ztWMa1ns7bx0bBii54K\nomvMFFylmOAQruoFKQv/0qLZEYCJ5AoZC35VDeCRnhplc5lgFPtnpRud9zH54CzI\ncJdq2j/KRFR5TuCWCvs0XPC6VkWb2yE0TwRmAK3TpfnyEqiRjj9t8fcyB5cF70LC\npeowVLWl61+4slQiqMi1mWkuSBHluUIcbhTxUrXtkrARuFbbmfZ+DC+G/AWXvJe0\nCxFRN4vioykkTcfbiWaFJomCrrw8cqI6Sc7LDrAuBZXg\n-----END ENCRYPTED PRIVATE KEY-----\n", "client_email": "svc@acme.iam"})__", R"__(-----BEGIN ENCRYPTED PRIVATE KEY-----\nzSceaTkbYxVlRwqH42xQOb7T6fncZ8IBjD5SHqbyQLiD8ztWMa1ns7bx0bBii54K\nomvMFFylmOAQruoFKQv/0qLZEYCJ5AoZC35VDeCRnhplc5lgFPtnpRud9zH54CzI\ncJdq2j/KRFR5TuCWCvs0XPC6VkWb2yE0TwRmAK3TpfnyEqiRjj9t8fcyB5cF70LC\npeowVLWl61+4slQiqMi1mWkuSBHluUIcbhTxUrXtkrARuFbbmfZ+DC+G/AWXvJe0\nCxFRN4vioykkTcfbiWaFJomCrrw8cqI6Sc7LDrAuBZXg\n-----END ENCRYPTED PRIVATE KEY-----)__"},
      {"private-key-encrypted", R"__(The file starts with -----BEGIN ENCRYPTED PRIVATE KEY----- and ends with -----END ENCRYPTED PRIVATE KEY-----.)__", ""},
      {"private-key-encrypted", R"__(-----BEGIN PUBLIC KEY-----
aoloVCZXobfKs8BFS1mJ1VX6uFdtqBtTDT4X/Ym69996uCv6txj7beLVXNzL/+eO
AqINXMajPY7yoMVLCRqrX3TF8YRJZj6cuUyoCQBiNyoEFASwr1Gbx2Y0nf7aTU6s
e2TSc6Id5YLaxGyjMdYTmod7BdGdrp0EjTtGkhP7B2BweBj31TKM0N5vMtYRSvm0
aIQck26HC8qCXckzhiNOIr5RbfkngHrKnKdeFxormntXc9uqDHcJy6UnzPUOp+QL
Ez5vXFTgkCEoEPqZvRQyP82Bv6bpbtr5RSf4Q0hqFJ3A
-----END PUBLIC KEY-----)__", ""},
      {"private-key-encrypted", R"__(-----BEGIN CERTIFICATE-----
upVyYDJWKTmCCsqKcUxTLbXuLyxWMUnYRq9ZOOVLws1++2aUnc7k8KZgjf/J+xzm
SJZds6s0mb9p/RmLjvEwpmzEaLyVGr5fKJ7nV8KwEuokDGgh0venFa0sYqP50fOI
uh/7tynm/ZjfIMrE8F2gX09BRCLC483UAJ+n/zctImbyehlgKHmT9Ss8MjgNAkla
BpNN9HKoruZraiSajisOMX8cGJPxvHf9W2oPs1vZzyGA8gPDj1qRo4pGv/PSsudt
puNIdgD3hOyexvM04+KihF8ohbr7XWCyEZ6K7lewbMdMxv0UM90kIrElTag2P2JW
ruzWMHzndrSoewn2Y6L3XTpDKPm67EBp9yy17kheEoitf+rRpD/mwoTU3nKtHcwi
ulhuIkN5Mm3wq5U7AI1kUb+ReMQKTJ4tbcDIBI9dBGUinp8Itaeescu3LHMtZqX2
kVMe3LePkQCwA8PL5gcPzAkoal1FMNhi1eZPOuoF8O5+wablYuI7
-----END CERTIFICATE-----
ssh-rsa AAAAB3NzaC1yc2EdgEH6Yw5oU5GjKYsbJ+BJqA5GxKlHC/tWPK0uP/p+8xdD6TJe5fLSFOBxzyjYU1LJ1VhRTKuvMKeh4uEbkiv4Dt+NJUXERdHA0pxzsvP/Tz9MIlWLwEPyxCijxDu3jCh3Is5HDYfbhfugSYcrBpLXiVGu7aUfSLJChPeac+rRf7odWfjCg4BM2XaX2h6zaPGE4prknGo alice@laptop)__", ""},
      {"private-key-pkcs8", R"__($ cat ~/.ssh/id
-----BEGIN PRIVATE KEY-----
MIIeA22E4YRRZNRNtcUvPYfJ7XrKi36UV+mlXmdgrLpHeXibwvfwnFiRNl5r7kOZCCc
fIJT5L1kmcORwFA37p8FkBZ9jRelatnOBmNQdBs4dL7sZ745P4k59W71pbN0DGp+
zDmnz6rdn+UMpdSZ3zlDbDXZU8/b8xuY2ISgStGWOsGbUXziULMFf3OB8HTLvFA5
u5W7vYC0dkEKrDZ/OHYJrkArvIQBhWV+P0miGMs+MHCLdbdwTIlSIY6o/Ams2F2p
JUFUiScswEWlDnkOkz2D6Bek+bpu7cpdnsBCGNpqEA4Chx3nFhthAKaz6bWJMyP7
k4qRFgm9DYxrrnINYqyi2hILtSM62nzCDkjUmHq91d+1ZPo1KzDYek6Iqig96P1I
4f+0zFl9lIRU6Wy64VUCxZ+N+v5WzeotHhm3AUAg0le7/bjRoJNhx+59gCWQi3wm
SDmGsohuuSS/LRa4r1q47FL5B6Tgpy3XqhlmeHGERouf6n05JtjZXTmI3r5yjJxj
VzUJAujL9VI6GqTwStpPimL/aOr+0J+lFwAFZPz84af4aQ1oc7vzs/65c86R781S
jir2aOrODAyyTfCyqoxonLGb==
-----END PRIVATE KEY-----
$ ls -la ~/.ssh)__", R"__(-----BEGIN PRIVATE KEY-----
MIIeA22E4YRRZNRNtcUvPYfJ7XrKi36UV+mlXmdgrLpHeXibwvfwnFiRNl5r7kOZCCc
fIJT5L1kmcORwFA37p8FkBZ9jRelatnOBmNQdBs4dL7sZ745P4k59W71pbN0DGp+
zDmnz6rdn+UMpdSZ3zlDbDXZU8/b8xuY2ISgStGWOsGbUXziULMFf3OB8HTLvFA5
u5W7vYC0dkEKrDZ/OHYJrkArvIQBhWV+P0miGMs+MHCLdbdwTIlSIY6o/Ams2F2p
JUFUiScswEWlDnkOkz2D6Bek+bpu7cpdnsBCGNpqEA4Chx3nFhthAKaz6bWJMyP7
k4qRFgm9DYxrrnINYqyi2hILtSM62nzCDkjUmHq91d+1ZPo1KzDYek6Iqig96P1I
4f+0zFl9lIRU6Wy64VUCxZ+N+v5WzeotHhm3AUAg0le7/bjRoJNhx+59gCWQi3wm
SDmGsohuuSS/LRa4r1q47FL5B6Tgpy3XqhlmeHGERouf6n05JtjZXTmI3r5yjJxj
VzUJAujL9VI6GqTwStpPimL/aOr+0J+lFwAFZPz84af4aQ1oc7vzs/65c86R781S
jir2aOrODAyyTfCyqoxonLGb==
-----END PRIVATE KEY-----)__"},
      {"private-key-pkcs8", R"__({"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nSDuJagAahKIo+GJ4/hVVTTPI6YWAMmo77ktdF98VKfdaMHylqsyef38QHNVZcg1H\n0gnIUC0L6mj43ARthXljphmmyjX+27frXopjdvgJooSba1FnUTpxkcN7tzp+8Mf3\naT07wIlCH5OVKAeYXe2ChDDZNYMbccCRWoFTFRB06N3gxVyYUJ3jVo5A1wjW3v8b\nV5OYD62+D4/3UmIr71bpIYUfqy44KJ3gDLzQAWBlHwDLkJqrYvbxOOG+iEhyT8jo\ne8JYkpqG+5OGHASvgPzmcQX+/RqZy5sRfLM3SxpE95jz\n-----END PRIVATE KEY-----\n", "client_email": "svc@acme.iam"})__", R"__(-----BEGIN PRIVATE KEY-----\nSDuJagAahKIo+GJ4/hVVTTPI6YWAMmo77ktdF98VKfdaMHylqsyef38QHNVZcg1H\n0gnIUC0L6mj43ARthXljphmmyjX+27frXopjdvgJooSba1FnUTpxkcN7tzp+8Mf3\naT07wIlCH5OVKAeYXe2ChDDZNYMbccCRWoFTFRB06N3gxVyYUJ3jVo5A1wjW3v8b\nV5OYD62+D4/3UmIr71bpIYUfqy44KJ3gDLzQAWBlHwDLkJqrYvbxOOG+iEhyT8jo\ne8JYkpqG+5OGHASvgPzmcQX+/RqZy5sRfLM3SxpE95jz\n-----END PRIVATE KEY-----)__"},
      {"private-key-pkcs8", R"__(The file starts with -----BEGIN PRIVATE KEY----- and ends with -----END PRIVATE KEY-----.)__", ""},
      {"private-key-pkcs8", R"__(-----BEGIN PUBLIC KEY-----
uagV+NoturKAEq2wz9KEqmkHcSaI5p75iaNAiJDv4YbhN0w4ZEBk5BPLileFs7/d
BNdGBjliv7eSEQ+DVCBUtjqQbgNlymUrrF7UPdo8FARMM+FyiFvP6Z8a18xemteV
Tt+G4EvTL0Q/HiBO0Efq2rhWEyZF4OMJkId3ETRLQiMwSpYBXiuy89xWVdY6JKgo
YZc2U5Wb9CBVgpWKm0pyWYIR4zSBCh47jNGEr9iuo/YGSzd1pesNIncAuPR96KxS
p3OuU5WojsuIRXzH34SJtvPmoS89d4vGRqnEg2aZqNCn
-----END PUBLIC KEY-----)__", ""},
      {"private-key-pkcs8", R"__(-----BEGIN CERTIFICATE-----
sWZfQrh1T9EXccagEPIQG80qYo7hhqNnSy6Th1ohNx0YJrNtzs1GE4RSZ9TEg4jM
Ao80NMLSzIKw3FVFUionIqZDVbZ8LrT4WSmqgqVmSd3BxeJ0xb7fQT4Gx5vOKhgK
G4J4MEJV3izVJB1yq8yq9weEmY+EP0Indp+su5ZX9BaoXf6mRLSWirVbHyxEa9Yv
CJR88dPWtYuSriogOtPLv7UNFEmm8rQZPxhkNjkYU0KiQ1GLGL+PHEiPzC+zTRxN
ah8vkFf55vbZyGnkYpvD4QBs+BIGYNSZp67UrXI29x5NvL/5tLLvO6HpBqiqMIrt
PHCJaZNgg9ckHPSBj+FfcFosun4PO4D290H6ohbwGp4JB/Cjac4Cks7Hu9G7OFxM
VRZktgwra9vFKosaTFMQfpNeZ95Z1Jvi/oKLKtVoHAbIvUgkv+TfRQa02V/FaaeO
a/uPQyJgB0mxlWUz4WI8TNqPNeCR9Xxc8VHLkJ+/gsOUQZEo/kxD
-----END CERTIFICATE-----
ssh-rsa AAAAB3NzaC1yc2E0xdqzDmBWYinTCKSjS47Sz2frlLIVwR4SwBBhVQzn277H4a4ln/DifIoUHXf3XxSxk0x5P2DsRm3BknY/wK7oDtROoCCxa3kgai3nFLekHJKJWtADjWlumIlmh3fLM27vQlDnD/bO/4h8wwvZ9C2rPmRClYGKPbhUAQThxxZ3JZnw5lE5Fhwv4IE41LFk7a/nNyGG9Im alice@laptop)__", ""},
      {"private-key-ec", R"__(apiVersion: v1
kind: Secret
stringData:
  tls.key: |
    -----BEGIN EC PRIVATE KEY-----
    MHcCAQEEIKnoA07r1bfwkDNoZvLHoEmidXf/PP+sl3lMJgTRJ
    oAoGCCqGSM49KmRbPTut4ELtm1IxGzGoub/S4bBF2BztrApC6LNOsOJ5ayJjm/jA
    fR9+8Vyrh76CueR810D0qO6NqzJ4K9N5tLTIGTBX==
    -----END EC PRIVATE KEY-----
  tls.crt: |
    -----BEGIN CERTIFICATE-----
)__", R"__(-----BEGIN EC PRIVATE KEY-----
    MHcCAQEEIKnoA07r1bfwkDNoZvLHoEmidXf/PP+sl3lMJgTRJ
    oAoGCCqGSM49KmRbPTut4ELtm1IxGzGoub/S4bBF2BztrApC6LNOsOJ5ayJjm/jA
    fR9+8Vyrh76CueR810D0qO6NqzJ4K9N5tLTIGTBX==
    -----END EC PRIVATE KEY-----)__"},
      {"private-key-truncated", R"__(ssh:
  deploy_key: |
      -----BEGIN RSA PRIVATE KEY-----
      MIIEpARyt765AH4hvydfoGFrmw8PCIWmJoL9WC5gIqXV84XQZqJpOUxBmRX4QGxT
      b/eVqxc5kax2rSDJZHh6ui/um+nA69FCnNstGsTID8vqcPcwtD5OMHdxsBRbAFR2
  host: bastion.acme.io)__", R"__(-----BEGIN RSA PRIVATE KEY-----
      MIIEpARyt765AH4hvydfoGFrmw8PCIWmJoL9WC5gIqXV84XQZqJpOUxBmRX4QGxT
      b/eVqxc5kax2rSDJZHh6ui/um+nA69FCnNstGsTID8vqcPcwtD5OMHdxsBRbAFR2)__"},
      {"private-key-pgp", R"__(gpg --export-secret-keys --armor ABCD1234
-----BEGIN PGP PRIVATE KEY BLOCK-----

lQOYBGzMDcPwAebeNk4mFV8kWcQHJTxJwJwaTO8QOTGJT5veRkZO2DWq08JhMV02rLS2DB
9+ANc0jKV9GLr0GDsLwlAN0D8UECERjnPIjMvO3RnldigworNlnbqgFEE6AEiAjH
4TKpuqxRXITi3I7mKmlVY875ICd5CegXmgJrcp6AhhR6I+sD90thWwlmQdhssqqS
8ERbbnbAsx5Di8zmYtp8oir4WZNVbCZ2UNXGp/pZU8/Nb0d/wV8qGVKaGW4gXmB6
c879LhWao239sjeDhAmdTEbD64SRKYHOSVLoy81+azwF402lsrnqsyAcaGubhEq4
BwfUelANanGJvSDKcJVh2jiIlaQJhY6HN0PDDzqVECXh/95pNc2Gm5qFUAyK8j4F
OVHRA4T8UhpWQBsPlwX7UBlXxVO7DlFRclanClMu7ecVoXTmXUysUqunjrEO0Joh
59YW/hFW4jLU9jR1B0Cib7uRQGfTH4V/cK11xFfXm/FUsUSMSrcecaEtfXOq88UC
n4VyHlcoS+4Yc1zXYHo+7Ut5Yce2C8gOqf5LAe+EZwJzHP5KDP6FMVKf/4Kh5+69
36w1oOuHoz1C7TcOsWgRVsIX8yUHWFEqNUCPAfJkYGzW4xkE8XfMMyuBXMZm8sMM
WklZC9dOAPS8g9i/i1cInDx0tkZ9TrjAkQfDw7V68yzYVhg3R1itiBATF7xM
=42u+
-----END PGP PRIVATE KEY BLOCK-----
)__", R"__(-----BEGIN PGP PRIVATE KEY BLOCK-----

lQOYBGzMDcPwAebeNk4mFV8kWcQHJTxJwJwaTO8QOTGJT5veRkZO2DWq08JhMV02rLS2DB
9+ANc0jKV9GLr0GDsLwlAN0D8UECERjnPIjMvO3RnldigworNlnbqgFEE6AEiAjH
4TKpuqxRXITi3I7mKmlVY875ICd5CegXmgJrcp6AhhR6I+sD90thWwlmQdhssqqS
8ERbbnbAsx5Di8zmYtp8oir4WZNVbCZ2UNXGp/pZU8/Nb0d/wV8qGVKaGW4gXmB6
c879LhWao239sjeDhAmdTEbD64SRKYHOSVLoy81+azwF402lsrnqsyAcaGubhEq4
BwfUelANanGJvSDKcJVh2jiIlaQJhY6HN0PDDzqVECXh/95pNc2Gm5qFUAyK8j4F
OVHRA4T8UhpWQBsPlwX7UBlXxVO7DlFRclanClMu7ecVoXTmXUysUqunjrEO0Joh
59YW/hFW4jLU9jR1B0Cib7uRQGfTH4V/cK11xFfXm/FUsUSMSrcecaEtfXOq88UC
n4VyHlcoS+4Yc1zXYHo+7Ut5Yce2C8gOqf5LAe+EZwJzHP5KDP6FMVKf/4Kh5+69
36w1oOuHoz1C7TcOsWgRVsIX8yUHWFEqNUCPAfJkYGzW4xkE8XfMMyuBXMZm8sMM
WklZC9dOAPS8g9i/i1cInDx0tkZ9TrjAkQfDw7V68yzYVhg3R1itiBATF7xM
=42u+
-----END PGP PRIVATE KEY BLOCK-----)__"},
      {"private-key-pgp", R"__(signing.asc:
-----BEGIN PGP PRIVATE KEY BLOCK-----
Version: GnuPG v2
Comment: release signing key (2026)

lQVYBGZzog7fbJkJCq+dshbNt27VrcXRQsFxfIhcQjk5S9XvuEh91wqu0uJI72BAsdU/9t
+kHZ3kCGxKqBsLFM4LHoEWN/KNYpnp94Sw/NZ4zmh7F7TiKinEQVACPm8AFlXNiT
kVXMPq9Bn4zwLzTTZ0zkS+mHWqdKQc8oLsOA0R35tORLA6zCrLmZi64jdZSl9kIZ
PNlBvwQKjYy/zeobDfBPthDTtiwvpWx9411Pz+DNtAsgeTOYKVd8j4mwxRAYt5dz
A44s8nsRrm+ntk5E82phQEE/LyHCnVjU0fe5AdVjDueuYpjU3DSuh7sO9n/hrXbR
g1AakxNhz+Mz2Jh6EXBaFqxdhGuGdGwQuGo3aeNbWvQ7WvWUMD2SHqJrH7sqDsoD
vuqlmGmgtBlxQfc75acrGQvtiSqZ4WZvuNfh3vvyl9Jrt39wAX1ndVHzx8dl8t8V
PCtdE+3dw/+AaBky27ILi0MYOmc6/66m96VByfI7yDgPMoTnXBJrZgGiOMI9YQEA
U6BgvBb7lVA79cM9UcuUA3QKRkTJPlDRbzfVVvKqBCr/3KUjPol+jzibPYr5mY37
9GiMcV1wqW/r+n0kRmZNzbK9+h1DXo/gBWnRZ+JnnOJaaphyvfp6D0+pYnTXEKQZ
aWu6wT9jL96PnCEObnXaTGpNQcIXNsaSIvjk5NHFXZrIFqOdk/bsO5C6NTiDO/wm
w1bsqSNtzjM2lHQwDmrmG7JFF4avip+zQ3NlEGYGWxSrx3R+b4CR5fCw8Bbvgb92
gOJj1d9syR+0gjTS4975dDBhAanhBOLQ+wRCGSVoWAGxrEbwyAJDDCNhqD0ivKhW
Sfefq1LL48vDWgRFJW8fR5yZngGODPt0RVF4Tv4FgJSdx9hQ3tAy3OxtAqYkIPfV
SvR5
=dCio
-----END PGP PRIVATE KEY BLOCK-----)__", R"__(-----BEGIN PGP PRIVATE KEY BLOCK-----
Version: GnuPG v2
Comment: release signing key (2026)

lQVYBGZzog7fbJkJCq+dshbNt27VrcXRQsFxfIhcQjk5S9XvuEh91wqu0uJI72BAsdU/9t
+kHZ3kCGxKqBsLFM4LHoEWN/KNYpnp94Sw/NZ4zmh7F7TiKinEQVACPm8AFlXNiT
kVXMPq9Bn4zwLzTTZ0zkS+mHWqdKQc8oLsOA0R35tORLA6zCrLmZi64jdZSl9kIZ
PNlBvwQKjYy/zeobDfBPthDTtiwvpWx9411Pz+DNtAsgeTOYKVd8j4mwxRAYt5dz
A44s8nsRrm+ntk5E82phQEE/LyHCnVjU0fe5AdVjDueuYpjU3DSuh7sO9n/hrXbR
g1AakxNhz+Mz2Jh6EXBaFqxdhGuGdGwQuGo3aeNbWvQ7WvWUMD2SHqJrH7sqDsoD
vuqlmGmgtBlxQfc75acrGQvtiSqZ4WZvuNfh3vvyl9Jrt39wAX1ndVHzx8dl8t8V
PCtdE+3dw/+AaBky27ILi0MYOmc6/66m96VByfI7yDgPMoTnXBJrZgGiOMI9YQEA
U6BgvBb7lVA79cM9UcuUA3QKRkTJPlDRbzfVVvKqBCr/3KUjPol+jzibPYr5mY37
9GiMcV1wqW/r+n0kRmZNzbK9+h1DXo/gBWnRZ+JnnOJaaphyvfp6D0+pYnTXEKQZ
aWu6wT9jL96PnCEObnXaTGpNQcIXNsaSIvjk5NHFXZrIFqOdk/bsO5C6NTiDO/wm
w1bsqSNtzjM2lHQwDmrmG7JFF4avip+zQ3NlEGYGWxSrx3R+b4CR5fCw8Bbvgb92
gOJj1d9syR+0gjTS4975dDBhAanhBOLQ+wRCGSVoWAGxrEbwyAJDDCNhqD0ivKhW
Sfefq1LL48vDWgRFJW8fR5yZngGODPt0RVF4Tv4FgJSdx9hQ3tAy3OxtAqYkIPfV
SvR5
=dCio
-----END PGP PRIVATE KEY BLOCK-----)__"},
      {"private-key-pgp", R"__(-----BEGIN PGP PUBLIC KEY BLOCK-----

mQINBGbjJvMQfR7SryASB/s6VH4GSNd+jI4UNjoT1aFGIw9VZuNStXHsr71cNyjj7d19m+
YtJJanT5FutGF6kgu2R93IhMOAaDNNcANeYfYQ6sNb3/6E6F3eiIZ8ohJS44p92R
8r6CZS+uPaR+4j0Sr0nsxqrpwMa59w+hubHD3Gwio6/tVktonWG4squ9BxrFQFmz
cMpqCn9n8iSpQvu1wmt/kdD4ox+zTwuwkoZyhCMXIG6MIgVRXFqHfZPD+hqNak/R
adNtTMaXBuihdfZo5n4AJUrTVBpuLh7IbT9zVghZL3eVBSKforVI7z1sToA0FgZ2
Z2hHgzioJD8277YnN1C2a8H7wQV63KOE9osintlHcKTgBylN4YkFgqpfGHiyiO1k
iX6mdmE/y06C7bflgwqy9zdjim6N+q9mvr/UvR4VJoKVnl3Z1bspGchRe+tXsw7v
q2a2kZl+AyPuZokziLWfpF6bYRR3A9vBfRvB/fLVNLx+78/mfsaH
-----END PGP PUBLIC KEY BLOCK-----)__", ""},
      {"private-key-pgp", R"__(Paste everything from -----BEGIN PGP PRIVATE KEY BLOCK----- to -----END PGP PRIVATE KEY BLOCK----- into the secret.)__", ""},
      {"private-key-truncated", R"__(Here is the key I pasted:
```
-----BEGIN RSA PRIVATE KEY-----
MIIEow8IEIAk3GRlXOLJr7upmIdMicoLkUsQuEHMn9e3roP8lwTk2qcwQtHK6snjyghxl2
af+9eT7fOQBrJ6g1P3hhSBEhKSDJWrgIxWnkaZXJGB38dxgAw7nwFRNCwclEUBi4
yVLf9EySO4yIsDbCGqGprEc3LmKDtb19dLXTqmOqE5KTRSGNRjPspidcdwFwXq3Q
CP3+wG8T+df+b63KiXxIRalXjC7w52XGdH5CULiKiOzN8RLDP6CNDbuoqC3grSnY
DfzH02LBr2mv2+rActASAeSw9PalXDx4ldhUmfgMMFML8Og0AhO553gl2Z2xlEgp
z2+t5B8p6zw8dX804ZWfrrao4fDR9pCFZ3tMTUgIxdRntmet6CQUd/qS8WK1nk02
JeHpj9JObdyDqt6C3swd17OlzGjDts8quyXtoLM7NIAFUXX2/KdVqS0le1svBxs+
2IhjN23gMn2lmDuCqBYq/Ipx8ZCPr+h7MxHKXtLNJGdY7fHUAfW6
```
It fails to load.)__", R"__(-----BEGIN RSA PRIVATE KEY-----
MIIEow8IEIAk3GRlXOLJr7upmIdMicoLkUsQuEHMn9e3roP8lwTk2qcwQtHK6snjyghxl2
af+9eT7fOQBrJ6g1P3hhSBEhKSDJWrgIxWnkaZXJGB38dxgAw7nwFRNCwclEUBi4
yVLf9EySO4yIsDbCGqGprEc3LmKDtb19dLXTqmOqE5KTRSGNRjPspidcdwFwXq3Q
CP3+wG8T+df+b63KiXxIRalXjC7w52XGdH5CULiKiOzN8RLDP6CNDbuoqC3grSnY
DfzH02LBr2mv2+rActASAeSw9PalXDx4ldhUmfgMMFML8Og0AhO553gl2Z2xlEgp
z2+t5B8p6zw8dX804ZWfrrao4fDR9pCFZ3tMTUgIxdRntmet6CQUd/qS8WK1nk02
JeHpj9JObdyDqt6C3swd17OlzGjDts8quyXtoLM7NIAFUXX2/KdVqS0le1svBxs+
2IhjN23gMn2lmDuCqBYq/Ipx8ZCPr+h7MxHKXtLNJGdY7fHUAfW6)__"},
      {"private-key-truncated", R"__(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAAN4wZdQaQYN5kCF/FzkeJGEPdnmENpR3gI2rT0wmb9H1dOR36apkX1WfKVCGJIShT5T8OnL
G6xl7XEgcfC2tihA9O4QozeivQ3J73jAyQd6deDNRfJVs7djc6YFX1PcDFjWxf95g30sVo
j5K2V/MS0E8ja0poOVytfyx01DHJUxR5c/20kH7niLHWQB9AxpqLqm8QxjOTG4k+7X4F6f
Zw15UoBTVwP3Rjf9ZN0fkQKDJ0whj6LFNggkGpS8lva2gD6+xv8GMTHShlewNQQvOuilHC
RVmdWZsLElCl5vmoYUJ6

The rest of the file was cut off.)__", R"__(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAAN4wZdQaQYN5kCF/FzkeJGEPdnmENpR3gI2rT0wmb9H1dOR36apkX1WfKVCGJIShT5T8OnL
G6xl7XEgcfC2tihA9O4QozeivQ3J73jAyQd6deDNRfJVs7djc6YFX1PcDFjWxf95g30sVo
j5K2V/MS0E8ja0poOVytfyx01DHJUxR5c/20kH7niLHWQB9AxpqLqm8QxjOTG4k+7X4F6f
Zw15UoBTVwP3Rjf9ZN0fkQKDJ0whj6LFNggkGpS8lva2gD6+xv8GMTHShlewNQQvOuilHC
RVmdWZsLElCl5vmoYUJ6)__"},
      {"private-key-truncated", R"__(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAAN4wZdQaQYN5kCF/FzkeJGEPdnmENpR3gI2rT0wmb9H1dOR36apkX1WfKVCGJIShT5T8OnL
G6xl7XEgcfC2tihA9O4QozeivQ3J73jAyQd6deDNRfJVs7djc6YFX1PcDFjWxf95g30sVo
j5K2V/MS0E8ja0poOVytfyx01DHJUxR5c/20kH7niLHWQB9AxpqLqm8QxjOTG4k+7X4F6f
Zw15UoBTVwP3Rjf9ZN0fkQKDJ0whj6LFNggkGpS8lva2gD6+xv8GMTHShlewNQQvOuilHC
RVmdWZsLElCl5vmoYUJ6
The rest of the file was cut off.)__", R"__(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAAN4wZdQaQYN5kCF/FzkeJGEPdnmENpR3gI2rT0wmb9H1dOR36apkX1WfKVCGJIShT5T8OnL
G6xl7XEgcfC2tihA9O4QozeivQ3J73jAyQd6deDNRfJVs7djc6YFX1PcDFjWxf95g30sVo
j5K2V/MS0E8ja0poOVytfyx01DHJUxR5c/20kH7niLHWQB9AxpqLqm8QxjOTG4k+7X4F6f
Zw15UoBTVwP3Rjf9ZN0fkQKDJ0whj6LFNggkGpS8lva2gD6+xv8GMTHShlewNQQvOuilHC
RVmdWZsLElCl5vmoYUJ6)__"},
      {"private-key-truncated", R"__(key = "-----BEGIN PRIVATE KEY-----
pt14o0klzlq7p2K807QBirvpj7lVTHIKBkcx5vsRchntRpuGw14tAYnM8RInWpDx
6DKnWpNP/mZy1Hdq9IWtIfFYkjMyJuhrIVqwHUqO3xO6ednFfAJm/9upA3AJLQlA
TLH0eyIgEnn4XlZ6zULZJfI3Yup+yOhcJItU77yvPpepzUobuohHYNxSe9i4SU7L
qoSdNjyn)__", R"__(-----BEGIN PRIVATE KEY-----
pt14o0klzlq7p2K807QBirvpj7lVTHIKBkcx5vsRchntRpuGw14tAYnM8RInWpDx
6DKnWpNP/mZy1Hdq9IWtIfFYkjMyJuhrIVqwHUqO3xO6ednFfAJm/9upA3AJLQlA
TLH0eyIgEnn4XlZ6zULZJfI3Yup+yOhcJItU77yvPpepzUobuohHYNxSe9i4SU7L
qoSdNjyn)__"},
      {"private-key-truncated", R"__(-----BEGIN OPENSSH PRIVATE KEY-----
(contents hidden by the editor)
-----END OPENSSH PRIVATE KEY-----)__", ""},
      {"private-key-truncated", R"__(openssl genrsa prints -----BEGIN RSA PRIVATE KEY----- followed by base64 lines)__", ""},
      {"private-key-truncated", R"__(-----BEGIN PUBLIC KEY-----
iZFmJeZ/4yqGtHpeRxRu6aS9YUHYj4fP6J5P/ydTU0k6SJM7OyUHhhObaQlX7uZ+
9CFH3lu6AobVU60DIGa0q2fWfcn5t5JEuIc2kiTYkPrN49SuRNkenA9/5/JwkUVG
oTtHiwLxuK2XZHpA2dT2E1l44+zE17ffNMzsBVmSVpyDNBioWK8nEFbPawWViuUY
m1ShV87uskt9gVODdFw6iTNGh2NJwZWUjwhhDEY83u4EgHOZngoNWcYDdGra1eTP
sJGYK336E7kApbDpB8u0R84qa57REKlOVqzu2cFha49A)__", ""},
      {"private-key-truncated", R"__(if line.startswith('-----BEGIN RSA PRIVATE KEY-----'):
    in_key = True)__", ""},
      {"private-key-putty", R"__(PuTTY-User-Key-File-2: ssh-rsa
Encryption: none
Comment: rsa-key-20261121
Public-Lines: 6
niNFOX3PVmkiVzEl5CNiQCZHQ/Lmx8us+pE5s0+y5YHlTUjTboBBNPDs+1twQ/2t
x/WXBq8naIrZIQMM+9/Jh3cetx241nOzZCtjsoFCsIMiAiwfFBWojKYxexpEZ9lC
8oDyBT9GuQYBNiQV/3o+z0nk/7xEZtiQRXWr5imjybH9IX91cAGZhjojHuOZyQXB
jmuWDtgQGT0wHb0hksoHqLmnj6D7Ej+5VFK5e42RQXnaResEG5/n3ORP7ph1FJym
p57bKMH7T2KdurPIqLHDCrEUM4yrDLiu/Wn26gwINOxYtqZ4JOPtgROLQqbBsOYq
QgD4Qw5JcY1LnJAr8kFZf8gPR2aYUk3YAIBsRkin
Private-Lines: 14
uf4dWMQui8g7uLEVJVARO5WZRIX3RVVmTbjSEZF9BNkBfeYsaCdd1kxLLHHk07EQ
+GzxGejwFLdRlgdS3AM+YQnnCsy4GeHmllQWLMy66tL5zzMtJrldaYQ/mlobKJxx
3XVQueuoymy0zkIhw9ExyQ+nLTxafgMaRZOZsSJeAXvoPS4Bx8YmD1tpdVv0bOzy
hp9HM6r08+/Iq/3jX8mfaGdERDolJ8K/wCcIhYfVgn4jUyGXrJ3YkgzYS8+8V1wl
zuJcP4tBP2JSLUVtnG3wbUQihKLNmNGFaZzLdHcUDw27+KWysvx+hypU45QXl27u
Dmho0o2yioJnPtfcmw2UAs88zhHAvQ9PYZ+q9Qh7Bqvow/demqvVwBELm0/L6tGY
jOFyMPDFMhoeWfM5+EAjSYvbpYRpt6ulTJnQFjhYXv8iXeyotJDL3Uix2M1dV2Xc
feAyXunAcCIxDI5wgMCDDLwLN9kuvm59hN6NoYnH3gJPeg6Et6KkKCElYPkfOU8A
nTZY6o4FUJavhNG3hlCPMM+psk+mY9Uw5A+S85TmcjuxYXue5DfsWr/JCap+ScXA
2SMQ8+peOX1rPnQvjC7nhQy4nCf1NIE9cBVdBXX73T7SevuIpcZ44/0w75hAOQ7I
MIY5vpW2GdgWw0FYNVFCU/LxFmfYczu57yro1pAyV3T+p3L1EzhY8qpVz39D7BtF
EaUvVIsccUTB6M/7wshgt72ikYNrpPLndgSRvE4F8QPJXMYIV3EW5UqP7BRVXvt0
jn2NKxIGI5rYIJMricJeWRh0UOGCblvpQlMBCgfPJRTxDboc6uB0y2OO5Gx4vbqd
qTSPRtQbw0KxG36EDC
Private-MAC: cc76a4b847e04334074666c96ca59abd37fc71e7
)__", R"__(Private-Lines: 14
uf4dWMQui8g7uLEVJVARO5WZRIX3RVVmTbjSEZF9BNkBfeYsaCdd1kxLLHHk07EQ
+GzxGejwFLdRlgdS3AM+YQnnCsy4GeHmllQWLMy66tL5zzMtJrldaYQ/mlobKJxx
3XVQueuoymy0zkIhw9ExyQ+nLTxafgMaRZOZsSJeAXvoPS4Bx8YmD1tpdVv0bOzy
hp9HM6r08+/Iq/3jX8mfaGdERDolJ8K/wCcIhYfVgn4jUyGXrJ3YkgzYS8+8V1wl
zuJcP4tBP2JSLUVtnG3wbUQihKLNmNGFaZzLdHcUDw27+KWysvx+hypU45QXl27u
Dmho0o2yioJnPtfcmw2UAs88zhHAvQ9PYZ+q9Qh7Bqvow/demqvVwBELm0/L6tGY
jOFyMPDFMhoeWfM5+EAjSYvbpYRpt6ulTJnQFjhYXv8iXeyotJDL3Uix2M1dV2Xc
feAyXunAcCIxDI5wgMCDDLwLN9kuvm59hN6NoYnH3gJPeg6Et6KkKCElYPkfOU8A
nTZY6o4FUJavhNG3hlCPMM+psk+mY9Uw5A+S85TmcjuxYXue5DfsWr/JCap+ScXA
2SMQ8+peOX1rPnQvjC7nhQy4nCf1NIE9cBVdBXX73T7SevuIpcZ44/0w75hAOQ7I
MIY5vpW2GdgWw0FYNVFCU/LxFmfYczu57yro1pAyV3T+p3L1EzhY8qpVz39D7BtF
EaUvVIsccUTB6M/7wshgt72ikYNrpPLndgSRvE4F8QPJXMYIV3EW5UqP7BRVXvt0
jn2NKxIGI5rYIJMricJeWRh0UOGCblvpQlMBCgfPJRTxDboc6uB0y2OO5Gx4vbqd
qTSPRtQbw0KxG36EDC)__"},
      {"private-key-putty", R"__(PuTTY-User-Key-File-3: ssh-ed25519
Encryption: none
Comment: eddsa-key-20261121
Public-Lines: 2
AAAAC3NzaC1lZDI1NTE5AAAAI/scsZ5f1edEfvohxfn5DAqAcj0Pm25L5lI87lzlL7gd
Private-Lines: 1
AAAAIrZX32tKNjHYbvkJmCtyjQ4OGBpzd6GctKrmkrMx
Private-MAC: 095a30ea10f8d8a9ba43cd6622106dcdef9a276458513b6e8a9a9f6c09f80a61
)__", R"__(Private-Lines: 1
AAAAIrZX32tKNjHYbvkJmCtyjQ4OGBpzd6GctKrmkrMx)__"},
      {"private-key-putty", R"__(PuTTY-User-Key-File-3: ssh-ed25519
Encryption: none
Comment: eddsa-key-20261121
Public-Lines: 2
AAAAC3NzaC1lZDI1NTE5AAAAIGQIBepw6W3emSBYMLUUGwoL9Ktg/5cRVU6pLRSG5eBr
)__", ""},
      {"private-key-putty", R"__(Private-Lines: 14
(omitted)
Private-MAC: 517441063990ccbd9b48424e1ba4d852afbffb99)__", ""},
      {"private-key-putty", R"__(The Private-Lines: header counts the base64 lines that follow, then Private-MAC: closes the file.)__", ""},
  };
}

}  // namespace tsync::redact::testing
