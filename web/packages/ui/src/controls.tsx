import type { ReactNode } from "react";
import {
  Button as AriaButton,
  type ButtonProps as AriaButtonProps,
  CheckboxGroup as AriaCheckboxGroup,
  SearchField as AriaSearchField,
  Select as AriaSelect,
  TextField as AriaTextField,
  Checkbox,
  FieldError,
  Input,
  Label,
  ListBox,
  ListBoxItem,
  Popover,
  SelectValue,
  Text,
} from "react-aria-components";

// Runs in the browser. Form controls of the apps, on react-aria-components (keyboard,
// screen reader and focus behaviour from there; looks from styles.css).

export interface ButtonProps extends AriaButtonProps {
  variant?: "primary" | "secondary" | "quiet";
}

export function Button({ variant = "secondary", className, ...props }: ButtonProps) {
  return <AriaButton {...props} className={`k-button k-button-${variant} ${className ?? ""}`} />;
}

interface FieldProps {
  label: string;
  description?: string;
  errorMessage?: string;
}

export interface TextFieldProps extends FieldProps {
  value: string;
  onChange: (value: string) => void;
  name?: string;
  inputMode?: "text" | "decimal" | "numeric";
  placeholder?: string;
  isInvalid?: boolean;
}

export function TextField({ label, description, errorMessage, ...props }: TextFieldProps) {
  const { inputMode, placeholder, ...field } = props;
  return (
    <AriaTextField {...field} className="k-field">
      <Label>{label}</Label>
      <Input inputMode={inputMode} placeholder={placeholder} />
      {description && <Text slot="description">{description}</Text>}
      <FieldError>{errorMessage}</FieldError>
    </AriaTextField>
  );
}

export interface SearchFieldProps extends FieldProps {
  value: string;
  onChange: (value: string) => void;
  onSubmit?: (value: string) => void;
  /** Focus left the box (to a result, a filter): a page commits what is pending. */
  onBlur?: () => void;
  placeholder?: string;
  busy?: boolean;
}

/** A search box: Escape clears it, Enter submits at once (typing is debounced by the page). */
export function SearchField({ label, description, busy, placeholder, ...props }: SearchFieldProps) {
  return (
    <AriaSearchField {...props} className="k-field k-search">
      <Label>{label}</Label>
      <div className="k-search-box">
        <Input placeholder={placeholder} aria-busy={busy || undefined} />
        {props.value !== "" && (
          <AriaButton className="k-search-clear" aria-label="Clear search">
            ×
          </AriaButton>
        )}
      </div>
      {description && <Text slot="description">{description}</Text>}
    </AriaSearchField>
  );
}

export interface Choice<K extends string> {
  id: K;
  name: string;
}

export interface SelectProps<K extends string> extends FieldProps {
  value: K;
  onChange: (value: K) => void;
  choices: readonly Choice<K>[];
}

export function Select<K extends string>({
  label,
  description,
  value,
  onChange,
  choices,
}: SelectProps<K>) {
  return (
    <AriaSelect
      className="k-field k-select"
      value={value}
      onChange={(key) => {
        const found = choices.find((c) => c.id === key);
        if (found) onChange(found.id);
      }}
    >
      <Label>{label}</Label>
      <AriaButton className="k-select-button">
        <SelectValue />
        <span aria-hidden="true" className="k-select-arrow">
          ▾
        </span>
      </AriaButton>
      {description && <Text slot="description">{description}</Text>}
      <Popover className="k-popover">
        <ListBox className="k-listbox" items={choices}>
          {(choice) => (
            <ListBoxItem className="k-option" id={choice.id} textValue={choice.name}>
              {choice.name}
            </ListBoxItem>
          )}
        </ListBox>
      </Popover>
    </AriaSelect>
  );
}

export interface CheckboxGroupProps<K extends string> extends FieldProps {
  value: readonly K[];
  onChange: (value: K[]) => void;
  choices: readonly Choice<K>[];
}

export function CheckboxGroup<K extends string>({
  label,
  description,
  value,
  onChange,
  choices,
}: CheckboxGroupProps<K>) {
  return (
    <AriaCheckboxGroup
      className="k-field k-checkboxes"
      value={[...value]}
      onChange={(keys) => onChange(choices.filter((c) => keys.includes(c.id)).map((c) => c.id))}
    >
      <Label>{label}</Label>
      {choices.map((choice) => (
        <Checkbox key={choice.id} value={choice.id} className="k-checkbox">
          <span className="k-checkbox-box" aria-hidden="true" />
          {choice.name}
        </Checkbox>
      ))}
      {description && <Text slot="description">{description}</Text>}
    </AriaCheckboxGroup>
  );
}

export function Fieldset({ legend, children }: { legend: string; children: ReactNode }) {
  return (
    <fieldset className="k-fieldset">
      <legend>{legend}</legend>
      {children}
    </fieldset>
  );
}
