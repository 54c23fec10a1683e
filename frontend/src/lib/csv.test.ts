import { describe, expect, it } from "vitest";
import { csvCell, toCsv } from "./csv";

describe("CSV export", () => {
  it("quotes commas, quotes and line breaks", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell(null)).toBe("");
    expect(csvCell(42)).toBe("42");
  });
  it("defuses spreadsheet formulas in user text", () => {
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
  });
  it("writes a header and one CRLF-terminated line per row", () => {
    const rows = [
      { id: "t1", why: "incident, 42" },
      { id: "t2", why: "" },
    ];
    const text = toCsv(rows, [
      { header: "id", value: (r) => r.id },
      { header: "justification", value: (r) => r.why },
    ]);
    expect(text).toBe('id,justification\r\nt1,"incident, 42"\r\nt2,\r\n');
  });
});
