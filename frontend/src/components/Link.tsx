import CsLink, { type LinkProps } from "@cloudscape-design/components/link";
import { useNavigate } from "react-router-dom";

/** A Cloudscape link that routes inside the app instead of reloading the page. */
export function Link({ href, children, ...rest }: LinkProps & { href: string }) {
  const navigate = useNavigate();
  return (
    <CsLink
      {...rest}
      href={href}
      onFollow={(e) => {
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </CsLink>
  );
}
