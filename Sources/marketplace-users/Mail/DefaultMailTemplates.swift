/// The mail templates shipped with the sender: one plain-text (`.txt`, first
/// line `Subject: ...`, a blank line, then the body) and one HTML (`.html`)
/// file per kind and language. `outbox deliver --templates DIR` replaces any of
/// them, or adds languages; `outbox templates DIR` writes these out to start
/// from. Fields are written `{{name}}` (docs/mail.md lists them); values are
/// HTML-escaped in `.html` files.
enum DefaultMailTemplates {
    static let files: [String: String] = [
        // MARK: English
        "invitation.en.txt": """
            Subject: {{inviter_name}} invited you to join {{account_name}} on {{platform_name}}

            Hello {{recipient_first_name}},

            {{inviter_name}} invited you to join the account {{account_name}} on {{platform_name}}.

            To accept or decline, open this link:
            {{invitation_link}}

            The link works until {{expires_at}}.

            If you did not expect this invitation, you can ignore this email.
            """,
        "invitation.en.html": """
            <p>Hello {{recipient_first_name}},</p>
            <p>{{inviter_name}} invited you to join the account <strong>{{account_name}}</strong> on {{platform_name}}.</p>
            <p><a href="{{invitation_link}}">Accept or decline the invitation</a></p>
            <p>The link works until {{expires_at}}.</p>
            <p>If you did not expect this invitation, you can ignore this email.</p>
            """,
        "resend.en.txt": """
            Subject: Reminder: join {{account_name}} on {{platform_name}}

            Hello {{recipient_first_name}},

            This is a reminder: {{inviter_name}} invited you to join the account {{account_name}} on {{platform_name}}.

            To accept or decline, open this link:
            {{invitation_link}}

            The link works until {{expires_at}}.
            """,
        "resend.en.html": """
            <p>Hello {{recipient_first_name}},</p>
            <p>This is a reminder: {{inviter_name}} invited you to join the account <strong>{{account_name}}</strong> on {{platform_name}}.</p>
            <p><a href="{{invitation_link}}">Accept or decline the invitation</a></p>
            <p>The link works until {{expires_at}}.</p>
            """,
        "new_invitation.en.txt": """
            Subject: New invitation to join {{account_name}} on {{platform_name}}

            Hello {{recipient_first_name}},

            {{inviter_name}} sent you a new invitation to join the account {{account_name}} on {{platform_name}}. Earlier links no longer work.

            To accept or decline, open this link:
            {{invitation_link}}

            The link works until {{expires_at}}.
            """,
        "new_invitation.en.html": """
            <p>Hello {{recipient_first_name}},</p>
            <p>{{inviter_name}} sent you a new invitation to join the account <strong>{{account_name}}</strong> on {{platform_name}}. Earlier links no longer work.</p>
            <p><a href="{{invitation_link}}">Accept or decline the invitation</a></p>
            <p>The link works until {{expires_at}}.</p>
            """,
        "removal.en.txt": """
            Subject: You were removed from {{account_name}} on {{platform_name}}

            Hello {{recipient_first_name}},

            You no longer have access to the account {{account_name}} on {{platform_name}}.
            Your login and your other accounts are not affected.
            """,
        "removal.en.html": """
            <p>Hello {{recipient_first_name}},</p>
            <p>You no longer have access to the account <strong>{{account_name}}</strong> on {{platform_name}}.</p>
            <p>Your login and your other accounts are not affected.</p>
            """,

        // MARK: German
        "invitation.de.txt": """
            Subject: {{inviter_name}} hat Sie zu {{account_name}} auf {{platform_name}} eingeladen

            Hallo {{recipient_first_name}},

            {{inviter_name}} hat Sie eingeladen, dem Konto {{account_name}} auf {{platform_name}} beizutreten.

            Um die Einladung anzunehmen oder abzulehnen, öffnen Sie diesen Link:
            {{invitation_link}}

            Der Link ist gültig bis {{expires_at}}.

            Falls Sie diese Einladung nicht erwartet haben, können Sie diese E-Mail ignorieren.
            """,
        "invitation.de.html": """
            <p>Hallo {{recipient_first_name}},</p>
            <p>{{inviter_name}} hat Sie eingeladen, dem Konto <strong>{{account_name}}</strong> auf {{platform_name}} beizutreten.</p>
            <p><a href="{{invitation_link}}">Einladung annehmen oder ablehnen</a></p>
            <p>Der Link ist gültig bis {{expires_at}}.</p>
            <p>Falls Sie diese Einladung nicht erwartet haben, können Sie diese E-Mail ignorieren.</p>
            """,
        "resend.de.txt": """
            Subject: Erinnerung: Treten Sie {{account_name}} auf {{platform_name}} bei

            Hallo {{recipient_first_name}},

            zur Erinnerung: {{inviter_name}} hat Sie eingeladen, dem Konto {{account_name}} auf {{platform_name}} beizutreten.

            Um die Einladung anzunehmen oder abzulehnen, öffnen Sie diesen Link:
            {{invitation_link}}

            Der Link ist gültig bis {{expires_at}}.
            """,
        "resend.de.html": """
            <p>Hallo {{recipient_first_name}},</p>
            <p>zur Erinnerung: {{inviter_name}} hat Sie eingeladen, dem Konto <strong>{{account_name}}</strong> auf {{platform_name}} beizutreten.</p>
            <p><a href="{{invitation_link}}">Einladung annehmen oder ablehnen</a></p>
            <p>Der Link ist gültig bis {{expires_at}}.</p>
            """,
        "new_invitation.de.txt": """
            Subject: Neue Einladung zu {{account_name}} auf {{platform_name}}

            Hallo {{recipient_first_name}},

            {{inviter_name}} hat Ihnen eine neue Einladung zum Konto {{account_name}} auf {{platform_name}} geschickt. Frühere Links funktionieren nicht mehr.

            Um die Einladung anzunehmen oder abzulehnen, öffnen Sie diesen Link:
            {{invitation_link}}

            Der Link ist gültig bis {{expires_at}}.
            """,
        "new_invitation.de.html": """
            <p>Hallo {{recipient_first_name}},</p>
            <p>{{inviter_name}} hat Ihnen eine neue Einladung zum Konto <strong>{{account_name}}</strong> auf {{platform_name}} geschickt. Frühere Links funktionieren nicht mehr.</p>
            <p><a href="{{invitation_link}}">Einladung annehmen oder ablehnen</a></p>
            <p>Der Link ist gültig bis {{expires_at}}.</p>
            """,
        "removal.de.txt": """
            Subject: Sie wurden aus {{account_name}} auf {{platform_name}} entfernt

            Hallo {{recipient_first_name}},

            Sie haben keinen Zugriff mehr auf das Konto {{account_name}} auf {{platform_name}}.
            Ihre Anmeldung und Ihre anderen Konten sind davon nicht betroffen.
            """,
        "removal.de.html": """
            <p>Hallo {{recipient_first_name}},</p>
            <p>Sie haben keinen Zugriff mehr auf das Konto <strong>{{account_name}}</strong> auf {{platform_name}}.</p>
            <p>Ihre Anmeldung und Ihre anderen Konten sind davon nicht betroffen.</p>
            """,
    ]
}
