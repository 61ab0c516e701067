// The tokens first: every stylesheet after them (those the components import too) uses them.
import "./tokens.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { Toaster } from "./ui/Toaster.tsx";
import { TooltipProvider } from "./ui/Tooltip.tsx";
import "./ui/primitives.css";
import "./styles.css";

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <TooltipProvider>
        <Toaster>
          <App />
        </Toaster>
      </TooltipProvider>
    </StrictMode>,
  );
}
