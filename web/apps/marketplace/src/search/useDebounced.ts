import { useEffect, useRef, useState } from "react";

// Runs in the browser. A field typed into locally and committed (to the URL) once the
// typing pauses, or at once when asked (`flush`: Enter; `settle`: what is pending, when
// the focus leaves); when the committed value changes from outside (Back, a link), the
// field follows it.

export function useDebouncedField(committed: string, commit: (value: string) => void, delay = 300) {
  const [value, setValue] = useState(committed);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const pending = useRef(committed);
  const latest = useRef(commit);
  latest.current = commit;

  useEffect(() => {
    if (timer.current === undefined) setValue(committed);
  }, [committed]);

  useEffect(() => () => clearTimeout(timer.current), []);

  const change = (next: string) => {
    setValue(next);
    pending.current = next;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current(next);
    }, delay);
  };
  const flush = (next: string) => {
    clearTimeout(timer.current);
    timer.current = undefined;
    setValue(next);
    latest.current(next);
  };
  const settle = () => {
    if (timer.current !== undefined) flush(pending.current);
  };
  return { value, change, flush, settle };
}
