/**
 * The wallet's own small component kit over react-aria-components (runs in the
 * browser): labelled fields, buttons with large touch targets, notices read out by
 * screen readers, a progress bar for key derivation, a confirmation dialog.
 * Looks come from ../styles.css (the page's CSP allows no inline <style>).
 */
import type { ReactNode } from "react";
import {
  Button as AriaButton,
  type ButtonProps as AriaButtonProps,
  Dialog,
  DialogTrigger,
  FieldError,
  Heading,
  Input,
  Label,
  Modal,
  ModalOverlay,
  ProgressBar,
  Text,
  TextField,
  type TextFieldProps,
} from "react-aria-components";

type Tone = "primary" | "secondary" | "danger";

export function Button({
  tone = "primary",
  className,
  ...props
}: AriaButtonProps & { tone?: Tone }) {
  return (
    <AriaButton {...props} className={`button button-${tone}${className ? ` ${className}` : ""}`} />
  );
}

export function Field({
  label,
  description,
  errorMessage,
  ...props
}: TextFieldProps & { label: string; description?: string; errorMessage?: string }) {
  return (
    <TextField {...props} className="field">
      <Label>{label}</Label>
      <Input />
      {description ? <Text slot="description">{description}</Text> : null}
      <FieldError className="field-error">{errorMessage}</FieldError>
    </TextField>
  );
}

export function Notice({
  tone,
  title,
  children,
}: {
  tone: "error" | "info" | "warning" | "ok";
  title?: string;
  children: ReactNode;
}) {
  return (
    <div className={`notice notice-${tone}`} role={tone === "error" ? "alert" : "status"}>
      {title ? <strong className="notice-title">{title}</strong> : null}
      <div>{children}</div>
    </div>
  );
}

export function Derivation({ label, value }: { label: string; value: number }) {
  return (
    <ProgressBar className="progress" value={Math.round(value * 100)} aria-label={label}>
      {({ percentage }) => (
        <>
          <span className="progress-label">
            {label} {Math.round(percentage ?? 0)} %
          </span>
          <progress max={100} value={Math.round(percentage ?? 0)} aria-hidden="true" />
        </>
      )}
    </ProgressBar>
  );
}

/** A button that asks first; `onConfirm` runs only after the second, explicit press. */
export function Confirm({
  trigger,
  title,
  children,
  confirm,
  onConfirm,
}: {
  trigger: string;
  title: string;
  children: ReactNode;
  confirm: string;
  onConfirm: () => void;
}) {
  return (
    <DialogTrigger>
      <Button tone="danger">{trigger}</Button>
      <ModalOverlay className="overlay" isDismissable>
        <Modal className="modal">
          <Dialog className="dialog">
            {({ close }) => (
              <>
                <Heading slot="title">{title}</Heading>
                <div>{children}</div>
                <div className="actions">
                  <Button tone="secondary" onPress={close}>
                    Cancel
                  </Button>
                  <Button
                    tone="danger"
                    onPress={() => {
                      close();
                      onConfirm();
                    }}
                  >
                    {confirm}
                  </Button>
                </div>
              </>
            )}
          </Dialog>
        </Modal>
      </ModalOverlay>
    </DialogTrigger>
  );
}
