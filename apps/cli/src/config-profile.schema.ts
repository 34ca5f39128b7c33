/** The schema of the profiles file (config-profile.ts): a profile's fields, checked with zod. */
import { z } from 'zod';

const FlagValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

const ProfileSchema = z
  .object({
    apiUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** The name of the variable that holds this profile's API key (the key itself never goes in the file). */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name')
      .optional(),
    /** A file whose content (trimmed) is the API key, e.g. `~/.config/rfbatch/prod.key`. */
    apiKeyFile: z.string().min(1).optional(),
    workspace: z.string().min(1).optional(),
    redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
    prefix: z.string().min(1).optional(),
    workDir: z.string().min(1).optional(),
    /** Defaults for command flags by long name (`workflow`, `machine`, `out`, …), for every command that has them. */
    flags: z
      .record(z.string().regex(/^[a-z][a-zA-Z0-9]*$/, 'a flag name in camelCase'), FlagValue)
      .optional(),
  })
  .strict()
  .refine((p) => !(p.apiKeyEnv && p.apiKeyFile), { message: 'apiKeyEnv and apiKeyFile: give one of them' });
export type Profile = z.infer<typeof ProfileSchema>;
export type ProfileFlags = NonNullable<Profile['flags']>;

export const ConfigFileSchema = z.object({ profiles: z.record(z.string().min(1), ProfileSchema) }).strict();
