export { compileRequirements, type Matcher, type Requirement } from './requirements.js';
export {
  isOperator,
  isRelational,
  OPERATORS,
  type Operator,
  type RelationalOperator,
} from './operators.js';
export { parsePath, type FilterStep, type PropertyStep, type Step } from './path.js';
export {
  isScalar,
  parseNumber,
  scalarText,
  ValueSet,
  type Scalar,
  type Visitor,
} from './scalars.js';
export { compareTimestamps, parseTimestamp, type Timestamp } from './timestamp.js';
export { walk } from './walk.js';
