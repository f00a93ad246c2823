// Runs in the browser. The apps' shared components (react-aria-components underneath);
// import "@kraken/ui/styles.css" once in each app for their looks.
export * from "./controls";
export * from "./data";
export * from "./feedback";
