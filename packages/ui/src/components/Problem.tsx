// An API failure in words: the problem's detail and, when present, each field's message.
import { ApiError, problemText } from '../api';

export function ProblemAlert({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  const fields = error instanceof ApiError ? error.errors : [];
  return (
    <div class="alert" role="alert" id={id}>
      <p>{problemText(error)}</p>
      {fields.length > 1 ? (
        <ul>
          {fields.map((f) => (
            <li key={f.field}>
              {f.field.replace(/^body\.?/, '') || 'request'}: {f.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
