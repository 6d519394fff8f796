import { readCasesJson } from '../../helpers/corpus.js';

/** The transcribed Istio test tables (cases.json), read at run time. */
export interface CasesFile {
  webhookTests: {
    TestInjectRequired: { cases: InjectRequiredCase[] };
    TestParseInjectEnvs: { cases: { path: string; want: Record<string, string> }[] };
    TestDetectNativeSidecar: {
      cases: { mode: string; kubeletVersions: string[]; want: boolean }[];
    };
  };
  cases: {
    in: string;
    want: string | null;
    setFlags?: string[];
    inFilePath?: string | null;
    expectedError?: string | null;
  }[];
}

export interface SelectorSpec {
  matchLabels?: Record<string, string>;
  selectorString?: string;
}

export interface InjectRequiredCase {
  name: string;
  policy: string;
  hostNetwork: boolean;
  namespace: string;
  podAnnotations?: Record<string, string>;
  podLabels?: Record<string, string>;
  alwaysInjectSelector?: SelectorSpec[];
  neverInjectSelector?: SelectorSpec[];
  wantInject: boolean;
}

export function loadCases(): CasesFile {
  return readCasesJson() as CasesFile;
}
