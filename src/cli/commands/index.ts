/**
 * The registered commands. A command appears here only once it works: `vigil --help`
 * never lists a placeholder. Add one line per command module.
 */
import type { Command } from 'commander';
import { register as rules } from './rules.js';
import { register as stack } from './stack.js';
import { register as produce } from './produce.js';
import { register as start } from './start.js';
import { register as collect } from './collect.js';
import { register as archive } from './archive.js';
import { register as run } from './run.js';
import { register as notify } from './notify.js';
import { register as silence } from './silence.js';
import { register as ack } from './ack.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [rules, stack, produce, collect, start, archive, notify, silence, ack, run];
