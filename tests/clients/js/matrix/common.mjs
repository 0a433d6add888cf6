// What every matrix script shares: the spec the Python side passes in
// $JUNCTION_MATRIX (prompts, schemas, the cells to run), and runCells, which
// runs each cell and prints one JSON object {"row|scenario|model": observation}.
// The Python tests (tests/clients/test_matrix_children.py) check the observations.

export const url = process.env.JUNCTION_URL;
export const spec = JSON.parse(process.env.JUNCTION_MATRIX);
export const KEY = "sk-junction";

export function weather(city) {
  return spec.weather_answer.replace("{city}", city);
}

// Runs the cells of `rows` ({row: {scenario: async (model) => observation}}).
export async function runCells(rows) {
  const out = {};
  for (const [row, scenario, model] of spec.cells) {
    const run = rows[row]?.[scenario];
    if (rows[row] === undefined) continue;
    const key = `${row}|${scenario}|${model}`;
    if (run === undefined) {
      out[key] = { failed: `this script has no ${scenario} for ${row}` };
      continue;
    }
    try {
      out[key] = await run(model);
    } catch (err) {
      const detail = `${err?.constructor?.name}: ${err?.message}`.slice(0, 600);
      out[key] = { failed: detail };
    }
  }
  console.log(JSON.stringify(out));
}

// The observation for "unknown model": the error the call raised, whether it
// is the library's own typed class, and its status.
export async function typedError(call, isTyped, statusOf) {
  try {
    await call();
  } catch (err) {
    return { typed: isTyped(err), status: statusOf(err) ?? null, name: err?.constructor?.name };
  }
  return { failed: "no error was raised" };
}
