#!/usr/bin/env node
// The `wsgate` executable: everything it does lives under commands/.
import './commands/cli.ts';
