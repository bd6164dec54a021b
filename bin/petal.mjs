#!/usr/bin/env node
// The `petal` command: same as `npm start` (build the dashboard if needed, then run the server).
import "../scripts/start.mjs";
