/**
 * Reaction chips under a message (count, mine highlighted, a hover list of who reacted;
 * a click toggles my reaction) and the picker: a grid of built-in emoji.
 */
import { useEffect, useRef, useState } from "preact/hooks";

import type { ChannelModel, ReactionChip } from "./channelModel";
import { EMOJI, QUICK_REACTIONS } from "./emoji";

function reactors(model: ChannelModel, chip: ReactionChip): string {
  const names = chip.senders.map((id) => model.person(id).name);
  const shown = names.slice(0, 10).join(", ");
  const more = names.length > 10 ? ` and ${names.length - 10} more` : "";
  return `${shown}${more}`;
}

function Chip({ model, chip, onToggle }: { model: ChannelModel; chip: ReactionChip; onToggle: () => void }) {
  const [hover, setHover] = useState(false);
  return (
    <span class="tl-chip-wrap" onMouseEnter={() => setHover(true)} onMouseLeave={() => setHover(false)}>
      <button
        type="button"
        class={chip.mine ? "tl-chip tl-chip-mine" : "tl-chip"}
        aria-pressed={chip.mine !== undefined}
        aria-label={`${chip.key} ${chip.senders.length}`}
        onClick={onToggle}
        onFocus={() => setHover(true)}
        onBlur={() => setHover(false)}
      >
        <span class="tl-emoji" aria-hidden="true">
          {chip.key}
        </span>{" "}
        {chip.senders.length}
      </button>
      {hover && (
        <span role="tooltip" class="tl-tooltip">
          {reactors(model, chip)} reacted with <span class="tl-emoji">{chip.key}</span>
        </span>
      )}
    </span>
  );
}

export function ReactionChips({
  model,
  chips,
  onToggle,
}: {
  model: ChannelModel;
  chips: ReactionChip[];
  onToggle: (chip: ReactionChip) => void;
}) {
  if (chips.length === 0) return null;
  return (
    <div class="tl-reactions">
      {chips.map((chip) => (
        <Chip key={chip.key} model={model} chip={chip} onToggle={() => onToggle(chip)} />
      ))}
    </div>
  );
}

export function EmojiPicker({ onPick, onClose, up }: { onPick: (emoji: string) => void; onClose: () => void; up: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector("button")?.focus({ preventScroll: true });
    const away = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, [onClose]);
  const pick = (emoji: string) => {
    onPick(emoji);
    onClose();
  };
  return (
    <div
      ref={ref}
      class={up ? "tl-picker tl-pop-up" : "tl-picker"}
      role="dialog"
      aria-label="Pick a reaction"
      onKeyDown={(e) => e.key === "Escape" && onClose()}
    >
      <div class="tl-picker-quick">
        {QUICK_REACTIONS.map((e) => (
          <button type="button" key={e} aria-label={`React with ${e}`} onClick={() => pick(e)}>
            {e}
          </button>
        ))}
      </div>
      <div class="tl-picker-grid">
        {EMOJI.filter((e) => !QUICK_REACTIONS.includes(e)).map((e) => (
          <button type="button" key={e} aria-label={`React with ${e}`} onClick={() => pick(e)}>
            {e}
          </button>
        ))}
      </div>
    </div>
  );
}
