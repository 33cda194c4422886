/** "Alice is typing…" under the composer (spec: client-server "Typing Notifications"). */
import type { ChannelModel } from "./channelModel";

export function typingText(names: string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return "Several people are typing…";
}

export function TypingIndicator({ model }: { model: ChannelModel }) {
  const names = model.typing.filter((u) => u !== model.me).map((u) => model.person(u).name);
  return (
    <div class="tl-typing" aria-live="polite">
      {typingText(names)}
    </div>
  );
}
