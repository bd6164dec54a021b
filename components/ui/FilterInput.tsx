"use client";
import { IconSearch } from "./icons";

/** The small search box page headers use to filter a list (focused by `/` via data-search). */
export function FilterInput(props: { value: string; onChange: (v: string) => void; placeholder: string; label: string; width: number }) {
  return (
    <label className="relative flex h-8 items-center" style={{ width: props.width }}>
      <span className="pointer-events-none absolute left-2.5 text-faint">
        <IconSearch />
      </span>
      <input
        data-search
        type="search"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        placeholder={props.placeholder}
        aria-label={props.label}
        className="h-8 w-full rounded-md border border-line bg-surface pl-8 pr-2 text-[12.5px] outline-none focus:border-accent"
      />
    </label>
  );
}
