// Lets cucumber-js import the TypeScript step definitions and support code.
import { register } from 'tsx/esm/api';

register();
