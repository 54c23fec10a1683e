// `npm run bench`: filtering the request wizard's targets at 5,000 accounts x 500 permission sets.
import { bench, describe } from "vitest";
import { filterIndexed, indexTargets, type TargetLike } from "./targets";

const sets = Array.from({ length: 500 }, (_, i) => ({ arn: `arn:ps/PS${i}`, name: `PermissionSet${i}` }));
const all: TargetLike[] = [];
for (let a = 0; a < 5000; a++) {
  const account = {
    id: String(100000000000 + a),
    name: `account-${a}`,
    organizationalUnitPath: `/r-root/ou-${a % 50}/`,
    tags: [{ key: "env", value: a % 2 ? "prod" : "dev" }],
  };
  for (const permissionSet of sets) all.push({ account, permissionSet });
}
const index = indexTargets(all);
const none = { text: "", ouId: null, tags: [], permissionSets: [] };

describe(`filter ${all.length} targets`, () => {
  bench("index once per load", () => {
    indexTargets(all);
  });
  bench("text (one keystroke)", () => {
    filterIndexed(index, { ...none, text: "account-42" });
  });
  bench("organizational unit", () => {
    filterIndexed(index, { ...none, ouId: "ou-7" });
  });
  bench("tag + permission set", () => {
    filterIndexed(index, { ...none, tags: ["env=prod"], permissionSets: ["PermissionSet3"] });
  });
});
