// A three-turn conversation with the TypeScript SDK (@anthropic-ai/sdk, `make tools` pins it into
// .tools-ts/), written the way its users write it: each answer's `content` goes back as the assistant
// turn, thinking blocks included, with a tool call in between.
// Input (env): GATEWAY_URL, STREAM ("1": messages.stream + finalMessage), PROMPT, TOOL_OUTPUT, FOLLOW_UP.
// Output (stdout): one JSON object with what the client saw in each answer. Exit 1 on an API error.
const Anthropic = require("@anthropic-ai/sdk").default;

const client = new Anthropic({ baseURL: process.env.GATEWAY_URL, apiKey: "sk-ant-dummy", maxRetries: 0 });
const tools = [{
  name: "aws_cli",
  description: "Runs a read-only AWS CLI query and returns its output.",
  input_schema: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
}];
const stream = process.env.STREAM === "1";

async function ask(messages) {
  const params = { model: "claude-mock-1", max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 1024 },
                   tools, messages };
  return stream ? client.messages.stream(params).finalMessage() : client.messages.create(params);
}

function seen(message) {
  return {
    stop_reason: message.stop_reason,
    thinking: message.content.filter((b) => b.type === "thinking").map((b) => b.thinking),
    text: message.content.filter((b) => b.type === "text").map((b) => b.text).join(""),
    tool_inputs: message.content.filter((b) => b.type === "tool_use").map((b) => b.input),
  };
}

async function main() {
  const messages = [{ role: "user", content: process.env.PROMPT }];
  const turns = [];
  const first = await ask(messages);
  turns.push(seen(first));
  const call = first.content.find((b) => b.type === "tool_use");
  messages.push({ role: "assistant", content: first.content });
  messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: process.env.TOOL_OUTPUT }] });
  const second = await ask(messages);
  turns.push(seen(second));
  messages.push({ role: "assistant", content: second.content });
  messages.push({ role: "user", content: process.env.FOLLOW_UP });
  const third = await ask(messages);
  turns.push(seen(third));
  process.stdout.write(JSON.stringify({ turns }));
}

main().catch((err) => {
  process.stderr.write(`${err.status || ""} ${err.message}\n`);
  process.exit(1);
});
